"""Live platform clients, one module per platform; imported only when publishing live.

Each module exposes `create_client(settings, env) -> PlatformClient` and maps every
failure of its platform, in one place, to a PublishError kind.
"""
