// Replaced at bundle time would be nicer; one constant keeps both sides honest for now.
export const AGENT_VERSION = '0.1.0';
