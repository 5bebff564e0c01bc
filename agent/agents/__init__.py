"""Several agents, one turn: an orchestrator decides which specialist acts (agent/agents/orchestrator.py)."""
