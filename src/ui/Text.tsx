// Ink's Text, with every string child made safe first: the views show names, addresses and
// messages that came from agents, config files and the network, and one escape sequence in
// an InitiatorName would otherwise reach the operator's terminal. Views import Text from here,
// never from ink (a test checks), so no view can forget. Line breaks a view puts in on purpose
// stay; the parts between them are escaped (newlines inside a value the views already fold).
import { Text as InkText } from 'ink';
import { Children, type ComponentProps, type ReactNode } from 'react';
import { untrustedLines } from '../../agent/untrusted-text.js';

/** A screen line never needs more: a longer one is cut and says how long it was. */
const SCREEN_LINE_LIMIT = 1024;

function safe(node: ReactNode): ReactNode {
  return typeof node === 'string' ? untrustedLines(node, SCREEN_LINE_LIMIT) : node;
}

export function Text(props: ComponentProps<typeof InkText>): ReactNode {
  const { children, ...rest } = props;
  return <InkText {...rest}>{Children.map(children, safe)}</InkText>;
}
