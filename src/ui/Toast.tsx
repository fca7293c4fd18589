import { Box } from 'ink';
import { Text } from './Text.js';
import type { Toast as ToastState } from './state.js';
import { truncate } from './format.js';

const ICON = { running: '…', success: '✔', error: '✖' } as const;
const COLOR = { running: 'yellow', success: 'green', error: 'red' } as const;

/** The toast's lines: a failure may take two, so that the agent's reason is not cut off. */
export function toastLines(toast: ToastState, width: number): string[] {
  const text = `${ICON[toast.kind]} ${toast.text.replace(/\s*\n\s*/g, ' ')}`;
  if (toast.kind !== 'error' || text.length <= width || width < 4) return [truncate(text, width)];
  return [text.slice(0, width), truncate(`  ${text.slice(width)}`, width)];
}

/** One line above the footer (two for a long failure); it never takes the keyboard. */
export function Toast({ toast, width }: { toast: ToastState; width: number }) {
  return (
    <Box flexDirection="column">
      {toastLines(toast, width).map((l, i) => (
        <Text key={i} color={COLOR[toast.kind]} bold={toast.kind === 'error'} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}
