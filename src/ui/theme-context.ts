// The theme (theme.ts) as the views see it: set once where the console renders, read by Text and Frame.
import { createContext, useContext } from 'react';
import { FULL_THEME, type Theme } from './theme.js';

export const ThemeContext = createContext<Theme>(FULL_THEME);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
