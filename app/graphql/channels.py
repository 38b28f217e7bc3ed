import strawberry

from app import models

strawberry.enum(models.Channel)  # exposes the model enum itself
