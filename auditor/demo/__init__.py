"""The embedded demo: a moto server seeded with the reference stack, some drift, and an audit."""
