"""The evaluations of Tables IV and V: loaders of the released sets, item builders, answer
parsing, scoring and metrics, and the tables (registry.py lists the evaluations and their columns)."""
