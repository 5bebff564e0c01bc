"""Continuum's FHIR R4 server.

``fhir.resources`` (the FHIR models library) installs a regular package that is
also named ``fhir``. Extending ``__path__`` lets both live side by side:
``fhir.resources.R4B`` resolves into the library, ``fhir.<module>`` into ours.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
