import { Text } from 'ink';
import type { Toast as ToastState } from './state.js';
import { truncate } from './format.js';

const ICON = { running: '…', success: '✔', error: '✖' } as const;
const COLOR = { running: 'yellow', success: 'green', error: 'red' } as const;

/** One line above the footer; it never takes the keyboard. */
export function Toast({ toast, width }: { toast: ToastState; width: number }) {
  return (
    <Text color={COLOR[toast.kind]} bold={toast.kind === 'error'} wrap="truncate">
      {truncate(`${ICON[toast.kind]} ${toast.text}`, width)}
    </Text>
  );
}
