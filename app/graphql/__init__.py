"""The thin GraphQL layer: parse, authorise, call a service, map the result."""
