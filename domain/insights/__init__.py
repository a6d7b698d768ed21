"""Creator audience insights: aggregate counts, privacy rules, recommendations."""
