"""Audio hallucination probing: yes/no items, answer parsing and metrics."""
