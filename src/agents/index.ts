/** Agent set-ups, shared by `exec-server connect` and the extension's "Connect an Agent…". */
export { AGENTS, MCP_NAME, agentSetup, isAgentId, type AgentId, type AgentSetup, type SetupStep } from './agents';
export { writeAgentSetup } from './writeSetup';
