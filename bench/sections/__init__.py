"""One module per section of the report: ``<name>_section`` measures, ``<name>_report`` writes its part."""
