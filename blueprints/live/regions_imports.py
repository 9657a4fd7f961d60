"""Live progress of CSV imports (import-<id>), shown to the person who started it."""
