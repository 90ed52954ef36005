"""Property-based testing of the live OpenAPI document with schemathesis."""
