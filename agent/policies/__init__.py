"""Action constraints enforced outside the model: which tool calls the harness will carry out."""
