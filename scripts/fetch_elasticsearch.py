"""Fetch Elastic's own Elasticsearch distribution from Maven Central, check its sha256 and unpack it.

No package registry reachable here ships an Elasticsearch server (not PyPI, npm or
Debian), but Elastic publishes the distribution its own integration tests run on
to Maven Central: ``org.elasticsearch.distribution.integ-test-zip:elasticsearch:VERSION:zip``.
It is the server with only four modules (``transport-netty4``, ``x-pack-core``,
``x-pack-security``, ``apm``) and no bundled JDK; docs/evidence.md lists what that
means (no ``english`` analyzer, no painless, no ``GET /``, no RRF retriever).

We pin 8.19.21, the newest 8.x there: it runs on the Debian JDK 17 that
``scripts/install_services.sh --test`` installs (9.x needs Java 21). The Python
client in requirements.txt has the same major version, as the client requires.

The zip is downloaded once over HTTPS (or, where that fails and Maven is installed,
with ``mvn dependency:copy``), refused unless its size and sha256 match, and unpacked
under ``~/.cache/continuum/elasticsearch/``. scripts/elasticsearch_node.py starts it.

Usage: python scripts/fetch_elasticsearch.py [--print-path]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.fetch_fhir_examples import sha256_of  # noqa: E402
from scripts.fetch_fhir_validator import MAVEN_CENTRAL, _download_url  # noqa: E402

VERSION = "8.19.21"
COORDINATE = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
SIZE = 106_871_955
SHA256 = "215d5f3dbf0609a149f6218a9e47b6ae2df34ebbff3c5754e35f15a5e5393c8a"
ZIP_NAME = f"elasticsearch-{VERSION}.zip"
URL = f"{MAVEN_CENTRAL}/org/elasticsearch/distribution/integ-test-zip/elasticsearch/{VERSION}/{ZIP_NAME}"


def cache_dir() -> Path:
    root = os.environ.get("CONTINUUM_CACHE_DIR") or Path.home() / ".cache" / "continuum"
    return Path(root) / "elasticsearch"


def home() -> Path:
    """The unpacked distribution (``bin/elasticsearch``, ``config/``, ``lib/``, ``modules/``)."""
    return cache_dir() / f"elasticsearch-{VERSION}"


def _stamp() -> Path:
    return home() / ".verified"


def is_installed() -> bool:
    """Cheap: a verified unpack of the pinned zip is there."""
    return _stamp().exists() and _stamp().read_text().strip() == SHA256 and (home() / "bin" / "elasticsearch").exists()


def _zip_ok(path: Path) -> bool:
    return path.exists() and path.stat().st_size == SIZE and sha256_of(path) == SHA256


def _download(into: Path) -> Path:
    target = into / ZIP_NAME
    try:
        _download_url(URL, target)
    except OSError:
        mvn = shutil.which("mvn")
        if not mvn:
            raise
        subprocess.run([mvn, "-q", "-B", "dependency:copy", f"-DoutputDirectory={into}", f"-Dartifact={COORDINATE}"],
                       check=True, stdout=subprocess.DEVNULL)
    return target


def fetch() -> Path:
    """Download, verify and unpack the pinned distribution (idempotent); return its folder."""
    if is_installed():
        return home()
    cache_dir().mkdir(parents=True, exist_ok=True)
    archive = cache_dir() / ZIP_NAME
    if not _zip_ok(archive):
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            print(f"fetch_elasticsearch: downloading {ZIP_NAME} ({SIZE / 1e6:.0f} MB, Maven Central)", file=sys.stderr)
            partial = _download(Path(tmp))
            if not _zip_ok(partial):
                raise SystemExit(f"fetch_elasticsearch: {ZIP_NAME} failed its size/sha256 check; refusing it")
            partial.replace(archive)
    shutil.rmtree(home(), ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp, zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            path = Path(zf.extract(member, tmp))
            mode = member.external_attr >> 16  # zipfile drops the Unix permissions (bin/ must stay executable)
            if mode and not member.is_dir():
                path.chmod(mode & 0o777)
        (Path(tmp) / home().name).replace(home())
    _stamp().write_text(SHA256)
    print(f"fetch_elasticsearch: {home()} verified", file=sys.stderr)
    return home()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-path", action="store_true", help="print the unpacked distribution's folder")
    args = parser.parse_args()
    fetch()
    if args.print_path:
        print(home())


if __name__ == "__main__":
    main()
