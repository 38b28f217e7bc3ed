"""Business rules as plain async functions. No GraphQL here."""
