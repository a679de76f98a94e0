"""Channel adapters: one module per platform, listed explicitly in `registry`."""
