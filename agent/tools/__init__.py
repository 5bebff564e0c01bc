"""The agent's tools, one file each (schema, permission, handler); registry.py lists them."""
