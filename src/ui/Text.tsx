// Ink's Text, with every string child made safe first: the views show names, addresses and
// messages that came from agents, config files and the network, and one escape sequence in
// an InitiatorName would otherwise reach the operator's terminal. Views import Text from here,
// never from ink (a test checks), so no view can forget. Line breaks a view puts in on purpose
// stay; the parts between them are escaped (newlines inside a value the views already fold).
// The theme is applied here too, the one place: without colour a background becomes inverse
// video (a banner stays a banner), without Unicode the glyphs become ASCII (glyphs.ts).
import { Text as InkText } from 'ink';
import { Children, createElement, type ComponentProps, type ReactNode } from 'react';
import { untrustedLines } from '../../agent/protocol/untrusted-text.js';
import { asciiGlyphs, asciiText } from './glyphs.js';
import { useTheme } from './theme-context.js';

/** A screen line never needs more: a longer one is cut and says how long it was. */
const SCREEN_LINE_LIMIT = 1024;

function safe(node: ReactNode, unicode: boolean): ReactNode {
  if (typeof node !== 'string') return node;
  const s = untrustedLines(node, SCREEN_LINE_LIMIT);
  return unicode ? s : asciiText(s);
}

export function Text(props: ComponentProps<typeof InkText>): ReactNode {
  const { children, color, backgroundColor, inverse, ...rest } = props;
  const theme = useTheme();
  const shown = Children.map(children, (c) => safe(c, theme.unicode));
  const style = theme.color ? { color, backgroundColor, inverse } : { inverse: inverse === true || backgroundColor !== undefined };
  const text = (
    <InkText {...rest} {...style}>
      {shown}
    </InkText>
  );
  if (theme.unicode) return text;
  // The swap runs on the lines Ink finally writes, after it wrapped or cut them (its own cut ends
  // in `…`). Ink's public Transform would wrap the text as 'wrap' whatever this Text says, so this
  // is the element it makes, with this Text's wrap.
  return createElement('ink-text', { style: { flexGrow: 0, flexShrink: 1, flexDirection: 'row', textWrap: rest.wrap ?? 'wrap' }, internal_transform: asciiGlyphs }, text);
}
