"""Image variants for the channels: decoded once, resized, re-encoded within a byte budget, cached.

A variant depends only on the source bytes and a `VariantSpec`, so `MediaCache` keeps it on disk
by (source sha256, spec key) and a later request does no image work at all.

Modules: `spec` (the public types), `decode` (any accepted image to upright sRGB pixels),
`render` (layout, resampling and the byte budget), `cache` (the files on disk), `batch` (many
images' variants made up front over several processes).
"""

from publisher.media.batch import prepare_variants
from publisher.media.cache import MediaCache
from publisher.media.spec import MediaError, Variant, VariantSpec

__all__ = ["MediaCache", "MediaError", "Variant", "VariantSpec", "prepare_variants"]
