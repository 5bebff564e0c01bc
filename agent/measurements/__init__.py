"""Measurements patients report in chat ("my BP this morning was 150/95", "I'm 13 st 2 lb") become coded,
unconfirmed FHIR Observations: ``parse`` finds them (deterministic, microseconds), ``kinds`` holds their LOINC
codes, UCUM units and plausible ranges, ``record`` writes them once each through the agent's Repository.
The trend rules that read them afterwards are in agent/safety/trend_rules.py; see docs/dashboard.md."""
