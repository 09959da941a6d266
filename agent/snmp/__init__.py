"""SNMP discovery: a fast v1/v2c path, pysnmp for v3, pure parsers and data-driven identification."""
