"""Publishing: running a rendered post's calls against a platform, or into the outbox."""
