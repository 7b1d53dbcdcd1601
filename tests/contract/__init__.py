"""Codat's wire contract, extracted from the official OpenAPI documents and committed here."""
