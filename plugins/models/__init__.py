"""GPT models plugin (placeholder)."""
