// Imported first by the UI tests: colours on (chalk decides when it loads, and the fake
// terminal is not a TTY), and React's act() environment for deterministic frames.
process.env.FORCE_COLOR = '1';
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
