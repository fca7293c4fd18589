// Ink's Box with a border, drawn as the theme says: ASCII `+-|` without Unicode, no border colour
// without colour. Dialogs and overlays use it for their frames; plain layout boxes are Ink's.
import { Box } from 'ink';
import type { ComponentProps, ReactNode } from 'react';
import { borderStyle, type BorderStyle } from './glyphs.js';
import { useTheme } from './theme-context.js';

export function Frame(props: Omit<ComponentProps<typeof Box>, 'borderStyle'> & { borderStyle: BorderStyle }): ReactNode {
  const { borderStyle: style, borderColor, ...rest } = props;
  const theme = useTheme();
  return <Box {...rest} borderStyle={borderStyle(style, theme.unicode)} borderColor={theme.color ? borderColor : undefined} />;
}
