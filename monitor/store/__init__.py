"""The store: engine, sessions, tables and schema migrations."""
