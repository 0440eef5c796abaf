"""CLI commands of the logistics foundation (filled in below)."""
