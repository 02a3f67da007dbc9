"""Avro schemas as tradewire sees them: positions, a strict parser, catalogs, forms, checks."""
