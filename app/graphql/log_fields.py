"""The GraphQL operation's name and the caller's tenant, as fields of the log lines about it."""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app import logs


class LogFields(SchemaExtension):
    # Once the document is parsed, when an unnamed request's operation name is known; and once
    # per operation, not per subscription event. Not reset: the access line comes after.
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        logs.operation.set(context.operation_name)
        principal = getattr(context.context, "principal", None)
        if principal is not None:
            logs.tenant_id.set(str(principal.tenant_id))
        yield
