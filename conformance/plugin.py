"""The conformance harness's pytest plugin. Load it explicitly::

    pytest -p conformance.plugin features/ [--sut reference] [--bitbucket-version V]
           [--tags EXPR] [--report DIR]

It is not a ``pytest11`` entry point, so ordinary test runs are unaffected. It:

- registers the step library (:data:`conformance.steps.STEP_MODULES`) and every tag as a
  marker (``must``, ``should``, ``section``, ``repositories``, ``oauth1``, ``oauth2``), maps
  ``@section:<slug>`` to ``pytest.mark.section("<slug>")``, and checks every feature file
  before anything runs: Gherkin syntax, unknown tags, one level (``@must`` or ``@should``)
  and one ``@section:`` per scenario, and undefined steps, each reported as
  ``file:line: problem`` with a usage error (exit 4);
- starts, once per run and only when scenarios are selected, the simulated Bitbucket (a second
  one under a context path when a scenario asks) and the system under test (``--sut``),
  asks its capabilities (an unreachable or off-protocol SUT stops the run with the driver's
  diagnosis) and skips scenarios tagged ``@repositories`` / ``@oauth1`` / ``@oauth2`` that it
  does not support;
- gives each scenario a fresh :class:`~conformance.context.ScenarioContext` (fixture ``ctx``)
  after resetting the simulator and the SUT;
- turns a failed ``@should`` scenario into a warning: its report becomes an expected failure
  (``xfailed``, with the reason), so pytest itself exits 0 when only ``@should`` scenarios
  fail. Harness problems (an undefined step, an off-protocol SUT, a misused step) still fail;
- records every scenario as a :class:`~conformance.report.ScenarioResult` (steps, the failed
  step's expectation, and its HTTP trace), carried on the test report itself so that the
  results of pytest-xdist's workers (``-n``) reach the controller, and writes ``summary.md``,
  ``report.html``, ``junit.xml``, ``cucumber.json`` and ``results.json`` into
  ``--report DIR`` at the end;
- applies ``--expected-failures FILE`` and ``--expected-skips FILE``
  (:mod:`conformance.expectations`): a listed scenario that fails is an expected failure
  (``xfailed``: the run still passes), a listed scenario that passes fails the run ("expected
  failure now passes: remove it from FILE:LINE"), a skip the skips file does not list is
  reported; a bad entry stops the run before anything starts (exit 4);
- with pytest-xdist, every worker starts its own simulator and SUT; an ``http(s)://`` SUT
  (one shared integration, reset before every scenario) is refused with more than one worker;
- exits 5 (pytest's "no tests") when no scenario ran, skipped ones included.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from _pytest.mark.expression import Expression
from pytest_bdd import exceptions as bdd_exceptions
from pytest_bdd.gherkin_parser import GherkinDocument, get_gherkin_document
from pytest_bdd.gherkin_parser import Scenario as GherkinScenario
from pytest_bdd.gherkin_parser import Tag as GherkinTag
from pytest_bdd.parser import Feature, Scenario, ScenarioTemplate, Step
from pytest_bdd.scenario import find_fixturedefs_for_step, scenario_wrapper_template_registry

from conformance.context import (
    Bitbucket,
    Browser,
    FeatureFileError,
    RecordingIntegrator,
    ScenarioContext,
)
from conformance.drivers.http import DriverExchange, HttpIntegrator
from conformance.drivers.loader import REFERENCE, is_reference, load_driver
from conformance.expectations import (
    Entry,
    Expectations,
    ExpectationsError,
    Kind,
    example_suffix,
    fill,
    known_scenarios,
    load_expectations,
)
from conformance.report import (
    REPORT_FILES,
    Level,
    Outcome,
    Report,
    ScenarioResult,
    StepResult,
    StepStatus,
    level_of,
    outcome_of,
    scenario_from_dict,
    scenario_to_dict,
    section_of,
    wire_entries,
    write_report,
)
from conformance.simulator_control import SimulatorControl, SimulatorControlError
from conformance.steps import STEP_MODULES, ExpectationError
from conformance.sut import Capabilities, DriverError, Integrator
from conformance.useragent import UserAgentError
from conformance.wire import head_of, wire_lines
from simulator.settings import Settings
from simulator.testing import SimulatorServer
from simulator.version import DEFAULT_VERSION, BitbucketVersion, VersionError

#: Every tag a feature may carry (``section:<slug>`` besides), and what it means.
MARKERS: Final = {
    "must": "conformance level: a failure fails the run",
    "should": "conformance level: a failure is reported as a warning",
    "section(slug)": "the section of the setup guide a scenario mirrors (@section:<slug>)",
    "repositories": "needs the SUT's repository listing (skipped when it has none)",
    "oauth1": "needs OAuth 1 support in the SUT (skipped otherwise)",
    "oauth2": "needs OAuth 2 support in the SUT (skipped otherwise)",
    "packages": "needs the SUT's package list (capabilities: packages; skipped otherwise)",
    "webhooks": "needs the SUT to set up webhooks (capabilities: webhooks; skipped otherwise)",
}
LEVEL_TAGS: Final = ("must", "should")
SECTION_PREFIX: Final = "section:"
_SECTION_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Tags that skip a scenario when the SUT's capabilities lack what they name.
CAPABILITY_TAGS: Final = ("repositories", "oauth1", "oauth2", "packages", "webhooks")
#: The attribute of a scenario's test report carrying its result (plain data, so that
#: pytest-xdist serialises it from a worker to the controller with the report).
RESULT_ATTRIBUTE: Final = "conformance_result"
SUT_ATTRIBUTE: Final = "conformance_sut"


# -- options ------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The harness's options."""
    group = parser.getgroup("conformance", "Bitbucket Data Center conformance harness")
    group.addoption(
        "--sut",
        default=REFERENCE,
        help="the system under test: 'reference' (default, the bundled reference), an "
        "http(s):// base URL serving the driver protocol, or 'package.module:factory'",
    )
    group.addoption(
        "--bitbucket-version",
        default=None,
        metavar="VERSION",
        help="the version under test: that of a server whose scenario does not name one "
        "('... at the version under test'; default: the simulator's)",
    )
    group.addoption(
        "--tags",
        default=None,
        metavar="EXPR",
        help="run the scenarios whose tags match EXPR, e.g. 'must and not repositories' or "
        "'section:finish-the-setup' (a leading @ is allowed)",
    )
    group.addoption(
        "--report",
        default=None,
        metavar="DIR",
        help="write summary.md, report.html, junit.xml, cucumber.json and results.json into DIR",
    )
    group.addoption(
        "--expected-failures",
        default=None,
        metavar="FILE",
        help="scenarios expected to fail ('features/x.feature: Scenario name' per line): "
        "their failure does not fail the run, their passing does",
    )
    group.addoption(
        "--expected-skips",
        default=None,
        metavar="FILE",
        help="scenarios expected to be skipped (same format): any other skip is reported",
    )
    group.addoption(
        "--bitbucket",
        default=None,
        metavar="URL",
        help="use the simulator already running at URL (through its control API) instead of "
        "starting one; scenarios needing a second simulator (a context path) are skipped",
    )
    group.addoption(
        "--bitbucket-control-token",
        default=os.environ.get("BBDC_SIM_CONTROL_TOKEN"),
        metavar="TOKEN",
        help="the control token of --bitbucket's simulator (default: $BBDC_SIM_CONTROL_TOKEN)",
    )
    group.addoption(
        "--bitbucket-ca",
        default=None,
        metavar="FILE",
        help="the CA certificate of --bitbucket's simulator when it serves HTTPS (--tls)",
    )
    group.addoption(
        "--bitbucket-tls",
        action="store_true",
        default=False,
        help="the harness's simulator serves HTTPS with a CA it makes; the harness trusts it "
        "and names it in BBDC_SIM_CA_FILE for the integration",
    )
    group.addoption(
        "--bitbucket-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the harness's simulator binds (default 127.0.0.1; beyond loopback it "
        "gets a control token of its own)",
    )
    group.addoption(
        "--bitbucket-port",
        type=int,
        default=0,
        metavar="PORT",
        help="port of the harness's simulator (default 0: a free one)",
    )
    group.addoption(
        "--bitbucket-public-url",
        default=None,
        metavar="URL",
        help="the base URL the integration reaches the harness's simulator at, when not the "
        "bound address (a container: http://host.docker.internal:7990)",
    )
    group.addoption(
        "--feature-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of .feature files the run's binding module reads (bbdc-sim conform "
        "--features): checked before the run like those under the paths given",
    )
    group.addoption(
        "--version-under-test-only",
        action="store_true",
        default=False,
        help="run only the scenarios that take the version under test (a step saying 'the "
        "version under test'); --matrix runs the others in one column only",
    )
    group.addoption(
        "--sut-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="seconds to wait for each answer of an HTTP SUT (default 10)",
    )


# -- the run ------------------------------------------------------------------------------------


RUN_KEY = pytest.StashKey["ConformanceRun"]()
RECORD_KEY = pytest.StashKey["ScenarioRecord"]()


@dataclass
class StepRecord:
    """One step as it ran."""

    keyword: str
    name: str
    line: int
    status: StepStatus = "skipped"
    started: float = 0.0
    duration: float = 0.0
    error: str | None = None
    mark: int = 0


@dataclass
class ScenarioRecord:
    """What the plugin saw of one scenario."""

    started: float = field(default_factory=time.perf_counter)
    steps: list[StepRecord] = field(default_factory=list)
    context: ScenarioContext | None = None
    failed_step: str | None = None
    expected: str | None = None
    actual: str | None = None
    message: str | None = None
    trace: tuple[dict[str, Any], ...] = ()
    #: Whether the failure is the harness's or the feature file's, not the SUT's.
    harness_error: bool = False


@dataclass(frozen=True, slots=True)
class RemoteBitbucket:
    """A simulator the harness did not start (``--bitbucket URL``)."""

    base_url: str
    control_token: str | None = None
    #: Its CA certificate when it serves HTTPS with one it made (``--bitbucket-ca``).
    ca_file: Path | None = None


#: Names a CA certificate for the integration under test to trust (a TLS simulator).
CA_FILE_VARIABLE: Final = "BBDC_SIM_CA_FILE"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def restore_variable(name: str, value: str | None) -> None:
    """Put an environment variable back as it was before the run."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def simulator_settings(config: pytest.Config, context_path: str = "") -> Settings:
    """How the harness starts a simulator: ``--bitbucket-host``/``-port`` for the root one
    (others on a free port), advertised at ``--bitbucket-public-url`` (plus the context
    path), with a control token of its own when bound beyond loopback."""
    host: str = config.getoption("bitbucket_host")
    port: int = config.getoption("bitbucket_port") if not context_path else 0
    public: str | None = config.getoption("bitbucket_public_url")
    if public:
        base_url: str | None = public.rstrip("/") + context_path
    elif context_path:
        scheme = "https" if config.getoption("bitbucket_tls") else "http"
        base_url = f"{scheme}://{host}:0{context_path}"
    else:
        base_url = None
    token = None if host in LOOPBACK_HOSTS else secrets.token_urlsafe(24)
    return Settings(host=host, port=port, base_url=base_url, control_token=token)


class ConformanceRun:
    """The run's servers, system under test and results (one per pytest session)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.sut_spec: str = config.getoption("sut")
        self.bitbucket_version: str | None = config.getoption("bitbucket_version")
        self.report_dir: str | None = config.getoption("report")
        self.expected: dict[Kind, Expectations] = {}
        #: ``SPEC (name)`` of the SUT, once its capabilities are known (here or on a worker).
        self.sut_label: str = ""
        self.timeout: float = config.getoption("sut_timeout")
        self.simulators: dict[str, SimulatorServer] = {}
        self.sut: Integrator | None = None
        self.capabilities: Capabilities | None = None
        self.results: list[ScenarioResult] = []
        self.current: ScenarioContext | None = None
        self.started = time.perf_counter()
        #: The reference's server when ``--sut reference`` (for steps that want its state).
        self.reference_server: Any = None
        self._closers: list[Callable[[], object]] = []
        self._tls_dir: str | None = None
        #: Said in the summary when the simulator serves HTTPS.
        self.tls_note = ""

    # -- servers

    def simulator(self, context_path: str = "") -> Bitbucket:
        """The simulator under ``context_path``: started on first use, or ``--bitbucket``'s
        (the root only: a scenario that needs another is skipped)."""
        remote = self.config.getoption("bitbucket")
        if remote:
            if context_path:
                pytest.skip(
                    f"needs a simulator under {context_path}, which the harness starts itself; "
                    f"--bitbucket uses one already running"
                )
            token = self.config.getoption("bitbucket_control_token")
            ca = self.config.getoption("bitbucket_ca")
            return RemoteBitbucket(remote.rstrip("/"), token, Path(ca) if ca else None)
        if context_path not in self.simulators:
            settings = simulator_settings(self.config, context_path)
            if self.config.getoption("bitbucket_tls"):
                # One CA for the run: every simulator serves a certificate it signed.
                if self._tls_dir is None:
                    folder = tempfile.mkdtemp(prefix="bbdc-conform-tls-")
                    self._closers.append(lambda: shutil.rmtree(folder, ignore_errors=True))
                    self._tls_dir = folder
                settings = settings.with_overrides(tls=True, tls_dir=self._tls_dir)
            server = SimulatorServer(settings).start()
            if server.ca_file is not None and not context_path:
                # The integration under test trusts it through this (the reference does).
                previous = os.environ.get(CA_FILE_VARIABLE)
                os.environ[CA_FILE_VARIABLE] = str(server.ca_file)
                self._closers.append(lambda: restore_variable(CA_FILE_VARIABLE, previous))
                self.tls_note = (
                    f"simulated Bitbucket: {server.base_url} (HTTPS, CA made for the run)"
                )
            self.simulators[context_path] = server
        return self.simulators[context_path]

    def start(self) -> None:
        """Start the simulator and the SUT, and ask the SUT's capabilities.

        An unusable SUT (bad ``--sut``, unreachable, off-protocol) is a usage error."""
        if self.sut is not None:
            return
        self.simulator("")
        try:
            self.sut = self._load_sut()
            self.capabilities = self.sut.capabilities()
            name = self.capabilities.name
            self.sut_label = f"{self.sut_spec} ({name})" if name else self.sut_spec
        except DriverError as exc:
            hint = "" if "driver-protocol.md" in str(exc) else "\n  see docs/driver-protocol.md"
            raise pytest.UsageError(f"the system under test cannot be used: {exc}{hint}") from None

    def _load_sut(self) -> Integrator:
        if is_reference(self.sut_spec):
            from conformance.drivers.python import CheckedIntegrator
            from conformance.reference.integrator import ReferenceIntegrator
            from conformance.reference.server import ReferenceServer

            server = ReferenceServer().start()
            self.reference_server = server
            self._closers.append(server.stop)
            return CheckedIntegrator(ReferenceIntegrator(server), REFERENCE)
        driver = load_driver(self.sut_spec, timeout=self.timeout, observer=self._observe)
        closer = getattr(driver, "close", None)
        if callable(closer):
            self._closers.append(closer)
        return driver

    def _observe(self, exchange: DriverExchange) -> None:
        if self.current is not None:
            self.current.timeline.add_exchange(exchange)

    def stop(self) -> None:
        """Stop the SUT (when the harness started it) and the simulators."""
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception as exc:  # stopping must go on
                print(f"conformance: stopping the system under test failed: {exc}")
        self._closers.clear()
        for server in self.simulators.values():
            server.stop()
        self.simulators.clear()

    # -- scenarios

    def new_context(self) -> ScenarioContext:
        """Reset the SUT and give a scenario its context (its simulator reset on first use)."""
        if self.sut is None or self.capabilities is None:
            self.start()
        assert self.sut is not None
        assert self.capabilities is not None
        context = ScenarioContext(
            pool=self,
            sut=self.sut,
            capabilities=self.capabilities,
            sut_spec=self.sut_spec,
            default_version=self.bitbucket_version,
        )
        if not isinstance(self.sut, HttpIntegrator):
            context.sut = RecordingIntegrator(self.sut, context.timeline)
        self.current = context
        context.sut.reset()
        return context

    @property
    def version_under_test(self) -> BitbucketVersion:
        """``--bitbucket-version``, else the simulator's default version."""
        return BitbucketVersion.parse(self.bitbucket_version or DEFAULT_VERSION)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect a scenario's result from its report, made here or on a pytest-xdist
        worker (the run is registered as a plugin: this hook gets no config)."""
        data = getattr(report, RESULT_ATTRIBUTE, None)
        if not isinstance(data, dict):
            return
        self.results.append(scenario_from_dict(data))
        label = getattr(report, SUT_ATTRIBUTE, "")
        if label and not self.sut_label:
            self.sut_label = str(label)

    def expectation(self, kind: Kind, feature: str, name: str) -> Entry | None:
        """The ``--expected-failures`` / ``--expected-skips`` entry listing a scenario."""
        expectations = self.expected.get(kind)
        return expectations.lookup(feature, name) if expectations is not None else None

    def report(self) -> Report:
        """The report of the scenarios run so far."""
        failures = self.expected.get("failure")
        skips = self.expected.get("skip")
        return Report(
            scenarios=tuple(self.results),
            sut=self.sut_label or self.sut_spec,
            bitbucket_version=f"{self.bitbucket_version or DEFAULT_VERSION} (the version under "
            "test; scenarios that name a version keep theirs)",
            duration=time.perf_counter() - self.started,
            expected_failures_file=failures.filename if failures is not None else "",
            expected_skips_file=skips.filename if skips is not None else "",
        )


def run_of(config: pytest.Config) -> ConformanceRun:
    """The run of this pytest session."""
    return config.stash[RUN_KEY]


# -- configuration and checks of the feature files ------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Register the step library, the tags as markers, and create the run."""
    for name in STEP_MODULES:
        module = importlib.import_module(name)
        if not config.pluginmanager.is_registered(module):
            config.pluginmanager.register(module, name)
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
    run = ConformanceRun(config)
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(run, "conformance-run")
    quiet_tracebacks(config)


def quiet_tracebacks(config: pytest.Config) -> None:
    """Below ``-v``, a failure is told by the conformance summary alone: no pytest traceback
    of the harness's code (``--tb=no``, unless ``--tb`` was given) and no "short test summary"
    of test ids (``-r`` without ``f`` and ``E``)."""
    if config.option.verbose >= 1:
        return
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "no"
    config.option.reportchars = (
        "".join(char for char in (config.option.reportchars or "") if char not in "fEaA") or "N"
    )


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (the controller writes the report)."""
    return hasattr(config, "workerinput")


def worker_count(config: pytest.Config) -> int:
    """How many pytest-xdist workers run the scenarios (0 without xdist)."""
    count = getattr(config.option, "numprocesses", None)
    return count if isinstance(count, int) else 0


def check_options(config: pytest.Config) -> None:
    """Refuse a malformed ``--bitbucket-version``, and an HTTP SUT shared by several workers."""
    version = config.getoption("bitbucket_version")
    if version:
        try:
            BitbucketVersion.parse(version)
        except VersionError as exc:
            raise pytest.UsageError(f"--bitbucket-version: {exc}") from None
    sut = str(config.getoption("sut"))
    if worker_count(config) > 1 and sut.startswith(("http://", "https://")):
        raise pytest.UsageError(
            f"--sut {sut} is one integration, reset before every scenario: scenarios of "
            "several workers (-n) would reset each other's state; run it without -n"
        )


def load_expected(config: pytest.Config) -> None:
    """Read ``--expected-failures`` and ``--expected-skips`` against the feature files."""
    run = run_of(config)
    files = {
        "failure": config.getoption("expected_failures"),
        "skip": config.getoption("expected_skips"),
    }
    if not any(files.values()):
        return
    features = [(path, display_path(path, config)) for path in feature_files(config)]
    known = known_scenarios(features)
    problems: list[str] = []
    kind: Kind
    for kind in ("failure", "skip"):
        path = files[kind]
        if not path:
            continue
        try:
            run.expected[kind] = load_expectations(
                path, kind, known, Path(config.rootpath), run.version_under_test
            )
        except ExpectationsError as exc:
            problems += exc.problems
    if problems:
        raise pytest.UsageError("the expectations files have problems:\n  " + "\n  ".join(problems))


def known_markers(config: pytest.Config) -> set[str]:
    """The names of every registered marker."""
    names = set()
    for line in config.getini("markers"):
        name = re.split(r"[:(]", str(line), maxsplit=1)[0].strip()
        if name:
            names.add(name)
    return names


def feature_files(config: pytest.Config) -> list[Path]:
    """The ``.feature`` files under the paths pytest was given (a test module's directory)."""
    found: dict[Path, None] = {}
    base = Path(config.invocation_params.dir)
    for arg in [*config.args, *config.getoption("feature_dir", [])]:
        path = base / str(arg).split("::", 1)[0]
        if path.is_file() and path.suffix == ".feature":
            found[path.resolve()] = None
            continue
        folder = path if path.is_dir() else path.parent
        if folder.is_dir():
            for feature in sorted(folder.rglob("*.feature")):
                found[feature.resolve()] = None
    return list(found)


def display_path(path: str | os.PathLike[str], config: pytest.Config | None = None) -> str:
    """A path relative to the root directory (or the current one) when below it."""
    root = Path(config.rootpath) if config is not None else Path.cwd()
    for base in (root, Path.cwd()):
        try:
            return str(Path(path).resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def tag_problem(tag: str, markers: set[str]) -> str | None:
    """Why a tag (without ``@``) is not allowed, or None."""
    if tag.startswith(SECTION_PREFIX):
        slug = tag[len(SECTION_PREFIX) :]
        if _SECTION_SLUG.match(slug):
            return None
        return f"@{tag}: a section slug is lower-case words joined by hyphens"
    if tag in markers:
        return None
    known = ", ".join(sorted(f"@{m}" for m in markers & {*LEVEL_TAGS, *CAPABILITY_TAGS}))
    return f"unknown tag @{tag} (known: {known}, @section:<slug>)"


def _tag_names(tags: Sequence[GherkinTag]) -> list[str]:
    return [tag.name.lstrip("@") for tag in tags]


def _scenarios(document: GherkinDocument) -> Iterator[tuple[GherkinScenario, list[GherkinTag]]]:
    """Every scenario with the tags it inherits (feature and rule)."""
    for child in document.feature.children:
        if child.scenario is not None:
            yield child.scenario, list(document.feature.tags)
        if child.rule is not None:
            for grandchild in child.rule.children:
                if grandchild.scenario is not None:
                    yield grandchild.scenario, [*document.feature.tags, *child.rule.tags]


def check_feature(path: Path, markers: set[str], shown: str) -> list[str]:
    """Problems of one feature file, each ``file:line: problem``."""
    try:
        document = get_gherkin_document(str(path))
    except bdd_exceptions.GherkinParseError as exc:
        line = exc.line_content.strip()
        return [f"{shown}:{exc.line}: Gherkin syntax error: {exc.message} (line: {line!r})"]
    problems: list[str] = []
    all_tags: list[GherkinTag] = list(document.feature.tags)
    for child in document.feature.children:
        if child.rule is not None:
            all_tags += child.rule.tags
    for scenario, _ in _scenarios(document):
        all_tags += scenario.tags
        for examples in scenario.examples:
            all_tags += examples.tags
    for tag in all_tags:
        problem = tag_problem(tag.name.lstrip("@"), markers)
        if problem:
            problems.append(f"{shown}:{tag.location.line}: {problem}")
    for scenario, inherited in _scenarios(document):
        names = _tag_names([*inherited, *scenario.tags])
        levels = [name for name in names if name in LEVEL_TAGS]
        sections = [name for name in names if name.startswith(SECTION_PREFIX)]
        where = f"{shown}:{scenario.location.line}: scenario {scenario.name!r}"
        if len(levels) != 1:
            found = " and ".join(f"@{level}" for level in levels) or "none"
            problems.append(f"{where} needs exactly one level tag, @must or @should (has {found})")
        if len(sections) != 1:
            found = ", ".join(f"@{section}" for section in sections) or "none"
            problems.append(
                f"{where} needs exactly one @section:<slug> tag, on it or its feature (has {found})"
            )
    return problems


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Check every feature file before collecting: syntax, tags, levels, sections (and, on
    pytest-xdist's controller, which collects nothing itself, undefined steps)."""
    config = session.config
    markers = known_markers(config)
    check_options(config)
    problems: list[str] = []
    for path in feature_files(config):
        problems += check_feature(path, markers, display_path(path, config))
    if not problems and worker_count(config) > 0 and not is_worker(config):
        for path in feature_files(config):
            problems += library_undefined_steps(path, display_path(path, config))
    if problems:
        raise pytest.UsageError("the feature files have problems:\n  " + "\n  ".join(problems))
    load_expected(config)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> bool:
    """``@section:<slug>`` -> ``pytest.mark.section("<slug>")``; other tags -> their marker.
    An unknown tag is kept aside and reported (with its file) when the items are collected."""
    if tag.startswith(SECTION_PREFIX):
        pytest.mark.section(tag[len(SECTION_PREFIX) :])(function)
        return True
    config = _current_config()
    if config is not None and tag not in known_markers(config):
        unknown: set[str] = function.__dict__.setdefault("_conformance_unknown_tags", set())
        unknown.add(tag)
        return True
    getattr(pytest.mark, tag)(function)
    return True


def _current_config() -> pytest.Config | None:
    from pytest_bdd.utils import CONFIG_STACK

    return CONFIG_STACK[-1] if CONFIG_STACK else None


# -- collection: scenarios of items, undefined steps, --tags ---------------------------------------


def template_of(item: pytest.Item) -> ScenarioTemplate | None:
    """The pytest-bdd scenario an item runs (None for other tests)."""
    function = getattr(item, "obj", None)
    if function is None:
        return None
    try:
        return scenario_wrapper_template_registry.get(function)
    except TypeError:
        return None


def scenario_of(item: pytest.Item) -> Scenario | None:
    """The scenario an item runs, with an outline's example filled in."""
    template = template_of(item)
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    return template.render(example)


def example_of(item: pytest.Item) -> dict[str, str]:
    """An outline's example row (empty for a plain scenario)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    example: dict[str, str] = callspec.params.get("_pytest_bdd_example", {})
    return example


def tags_of(scenario: Scenario | ScenarioTemplate) -> set[str]:
    """A scenario's tags with its feature's and rule's (without ``@``)."""
    tags = set(scenario.tags) | set(scenario.feature.tags)
    if scenario.rule is not None:
        tags |= set(scenario.rule.tags)
    return tags


def _undefined_steps(item: pytest.Item, scenario: Scenario) -> list[str]:
    problems = []
    fixturemanager = item.session._fixturemanager
    for step in scenario.steps:
        if next(iter(find_fixturedefs_for_step(step, fixturemanager, item)), None) is None:
            shown = display_path(scenario.feature.filename, item.config)
            problems.append(
                f"{shown}:{step.line_number}: undefined step: {step.keyword} {step.name}"
                + _suggestion(step)
            )
    return problems


def _suggestion(step: Step) -> str:
    return _closest_steps(step.type, step.name)


def _closest_steps(kind: str, text: str) -> str:
    import difflib

    from conformance.steps import registry

    patterns = [d.pattern.pattern for d in registry() if kind in d.kinds]
    close = difflib.get_close_matches(text, patterns, n=2, cutoff=0.5)
    hint = "; closest library steps: " + " | ".join(close) if close else ""
    return hint + " (bbdc-sim steps lists them all)"


_STEP_KINDS: Final = {"given": "given", "when": "when", "then": "then"}


def library_undefined_steps(path: Path, shown: str) -> list[str]:
    """Steps of a feature file that no step of the library matches (every outline row
    filled in), each ``file:line: undefined step: ...``. The check without collecting, for
    pytest-xdist's controller: a worker's collection error would crash the run."""
    from conformance.steps import definitions_matching

    try:
        document = get_gherkin_document(str(path))
    except bdd_exceptions.GherkinParseError:
        return []
    problems: dict[str, None] = {}
    backgrounds = [c.background.steps for c in document.feature.children if c.background]
    for scenario, _ in _scenarios(document):
        rows = [
            dict(
                zip(
                    [c.value for c in t.table_header.cells],
                    [c.value for c in r.cells],
                    strict=False,
                )
            )
            for t in scenario.examples
            if t.table_header is not None
            for r in t.table_body or ()
        ] or [{}]
        for steps in [*backgrounds, scenario.steps]:
            for example in rows:
                kind = "given"
                for step in steps:
                    keyword = step.keyword.strip()
                    kind = _STEP_KINDS.get(keyword.lower(), kind)
                    text = fill(step.text, example)
                    if not definitions_matching(kind, text):
                        problems[
                            f"{shown}:{step.location.line}: undefined step: {keyword} {text}"
                            + _closest_steps(kind, text)
                        ] = None
    return list(problems)


def tag_expression(config: pytest.Config) -> Expression | None:
    """``--tags`` compiled (``@`` dropped); a usage error when it is malformed or names an
    unknown tag."""
    raw = config.getoption("tags")
    if not raw:
        return None
    text = raw.replace("@", "")
    try:
        expression = Expression.compile(text)
    except SyntaxError as exc:
        raise pytest.UsageError(f"--tags {raw!r} is not a tag expression: {exc}") from None
    markers = known_markers(config)
    idents = re.findall(r"(?:\w|:|\+|-|\.|\[|\]|\\|/)+", text)
    for ident in idents:
        if ident in ("and", "or", "not"):
            continue
        problem = tag_problem(ident, markers)
        if problem:
            raise pytest.UsageError(f"--tags {raw!r}: {problem}")
    return expression


class TagMatcher:
    """Matches ``--tags`` identifiers against a scenario's tags."""

    def __init__(self, tags: set[str]) -> None:
        self.tags = tags

    def __call__(self, name: str, /, **kwargs: str | int | bool | None) -> bool:
        if kwargs:
            raise pytest.UsageError("--tags takes tag names, not name(arguments)")
        return name in self.tags


#: The words of every step that reads the version under test (conformance.steps.matrix).
VERSION_UNDER_TEST_WORDS: Final = "the version under test"


def takes_version_under_test(item: pytest.Item) -> bool:
    """Whether a scenario has a step (its Background's included) that reads the version
    under test, so that its outcome may differ from one Bitbucket version to another."""
    scenario = scenario_of(item)
    return scenario is not None and any(
        VERSION_UNDER_TEST_WORDS in step.name for step in scenario.steps
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Report unknown tags and undefined steps (file and line); select ``--tags``."""
    problems: list[str] = []
    for item in items:
        template = template_of(item)
        scenario = scenario_of(item)
        if template is None or scenario is None:
            continue
        function = getattr(item, "obj", None)
        for tag in sorted(getattr(function, "_conformance_unknown_tags", ())):
            shown = display_path(template.feature.filename, config)
            problem = tag_problem(tag, known_markers(config))
            problems.append(f"{shown}:{template.line_number}: {problem}")
        problems += _undefined_steps(item, scenario)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise pytest.UsageError("the feature files have problems:\n  " + "\n  ".join(unique))
    expression = tag_expression(config)
    only_varying = bool(config.getoption("version_under_test_only", False))
    if expression is None and not only_varying:
        return
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        template = template_of(item)
        tags = tags_of(template) if template is not None else set()
        wanted = expression is None or expression.evaluate(TagMatcher(tags))
        if wanted and only_varying:
            wanted = takes_version_under_test(item)
        (selected if wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


# -- running ---------------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Start the servers and the SUT once scenarios are selected."""
    if session.config.option.collectonly or not session.items:
        return
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        return
    if any(template_of(item) is not None for item in session.items):
        run_of(session.config).start()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a scenario needing what the SUT's capabilities lack."""
    template = template_of(item)
    if template is None:
        return
    capabilities = run_of(item.config).capabilities
    if capabilities is None:
        return
    tags = tags_of(template)
    if "repositories" in tags and not capabilities.repositories:
        pytest.skip("the SUT does not list repositories (capabilities: repositories false)")
    if "packages" in tags and not capabilities.packages:
        pytest.skip("the SUT does not serve its package list (capabilities: packages false)")
    if "webhooks" in tags and not capabilities.webhooks:
        pytest.skip("the SUT does not set up webhooks (capabilities: webhooks false)")
    for version in (1, 2):
        if f"oauth{version}" in tags and version not in capabilities.oauth_versions:
            pytest.skip(f"the SUT does not offer OAuth {version} (capabilities)")


@pytest.fixture
def ctx(request: pytest.FixtureRequest) -> Iterator[ScenarioContext]:
    """The scenario's context, after the simulator and the SUT were reset."""
    run = run_of(request.config)
    context = run.new_context()
    record = request.node.stash.get(RECORD_KEY, None)
    if record is not None:
        record.context = context
    yield context
    run.current = None


@pytest.fixture
def sut(ctx: ScenarioContext) -> Integrator:
    """The system under test (calls are recorded in the scenario's trace)."""
    return ctx.sut


@pytest.fixture
def bitbucket(ctx: ScenarioContext) -> Bitbucket:
    """The scenario's simulated Bitbucket."""
    return ctx.bitbucket


@pytest.fixture
def sim(ctx: ScenarioContext) -> SimulatorControl:
    """The control API of the scenario's simulated Bitbucket."""
    return ctx.sim


@pytest.fixture
def capabilities(ctx: ScenarioContext) -> Capabilities:
    """What the SUT declared it supports."""
    return ctx.capabilities


@pytest.fixture
def browser_factory(ctx: ScenarioContext) -> Callable[[str], Browser]:
    """``browser_factory("who")``: a new browser whose requests go into the trace."""
    return ctx.browser


def pytest_bdd_before_scenario(
    request: pytest.FixtureRequest, feature: Feature, scenario: Scenario
) -> None:
    """Start recording the scenario, and set up its context (resets)."""
    record = ScenarioRecord(
        steps=[StepRecord(s.keyword, s.name, s.line_number) for s in scenario.steps]
    )
    request.node.stash[RECORD_KEY] = record
    try:
        record.context = request.getfixturevalue("ctx")
    except Exception as exc:
        record.harness_error = True
        record.message = f"setting up the scenario failed: {type(exc).__name__}: {exc}"
        raise


def _record_of(request: pytest.FixtureRequest) -> ScenarioRecord | None:
    node: pytest.Item = request.node
    return node.stash.get(RECORD_KEY, None)


def _step_record(request: pytest.FixtureRequest, step: Step) -> StepRecord | None:
    record = _record_of(request)
    if record is None:
        return None
    for candidate in record.steps:
        if candidate.line == step.line_number and candidate.name == step.name:
            return candidate
    return None


def pytest_bdd_before_step(
    request: pytest.FixtureRequest, feature: Feature, scenario: Scenario, step: Step, step_func: Any
) -> None:
    """Note when the step starts and where the trace is."""
    record = _step_record(request, step)
    scenario_record = _record_of(request)
    context = scenario_record.context if scenario_record is not None else None
    if record is not None:
        record.started = time.perf_counter()
        record.mark = context.timeline.mark() if context is not None else 0


def pytest_bdd_after_step(  # noqa: PLR0917 - pytest-bdd's hook signature
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    step_func: Any,
    step_func_args: dict[str, Any],
) -> None:
    """The step passed: note its time and what the integration sent Bitbucket meanwhile."""
    record = _step_record(request, step)
    if record is not None:
        record.status = "passed"
        record.duration = time.perf_counter() - record.started
    _collect_wire(request, step)


def _collect_wire(request: pytest.FixtureRequest, step: Step) -> None:
    """Read the journal entries of the step (a simulator that stopped answering is noted,
    not raised: the step's own result stands)."""
    scenario_record = _record_of(request)
    context = scenario_record.context if scenario_record is not None else None
    if context is None:
        return
    try:
        context.collect_wire(f"{step.keyword.strip()} {step.name}".strip())
    except SimulatorControlError as exc:
        context.notes["wire_error"] = str(exc)


def is_harness_error(exception: BaseException) -> bool:
    """Whether a failure is the harness's, the feature file's or the driver protocol's (it
    fails the run whatever the level) rather than the SUT departing from the guide."""
    if isinstance(exception, FeatureFileError | DriverError | SimulatorControlError):
        return True
    return not isinstance(exception, AssertionError | UserAgentError)


def describe_failure(exception: BaseException) -> tuple[str | None, str | None, str]:
    """(expected, actual, message) of a step's exception."""
    if isinstance(exception, ExpectationError):
        return exception.expected, exception.actual, exception.hint or ""
    if isinstance(exception, DriverError):
        return (
            "an answer that follows the driver protocol (docs/driver-protocol.md)",
            str(exception),
            "",
        )
    if isinstance(exception, FeatureFileError):
        return None, None, f"feature file problem: {exception}"
    if isinstance(exception, AssertionError | UserAgentError):
        return None, None, str(exception) or type(exception).__name__
    return None, None, f"{type(exception).__name__}: {exception}"


def pytest_bdd_step_error(  # noqa: PLR0917 - pytest-bdd's hook signature
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    step_func: Any,
    step_func_args: dict[str, Any],
    exception: Exception,
) -> None:
    """The step failed: keep what was expected, what happened, and the step's trace."""
    record_step = _step_record(request, step)
    record = _record_of(request)
    if record is None or record_step is None:
        return
    record_step.status = "failed"
    record_step.duration = time.perf_counter() - record_step.started
    expected, actual, message = describe_failure(exception)
    record_step.error = " ".join(str(exception).split())[:500]
    record.failed_step = f"{step.keyword.strip()} {step.name}"
    record.expected, record.actual, record.message = expected, actual, message or None
    record.harness_error = is_harness_error(exception)
    if record.context is not None:
        record.trace = tuple(record.context.timeline.since(record_step.mark))
    _collect_wire(request, step)


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    exception: Exception,
) -> None:
    """A step without definition (normally caught at collection)."""
    record_step = _step_record(request, step)
    record = _record_of(request)
    if record is None or record_step is None:
        return
    record_step.status = "undefined"
    record.failed_step = f"{step.keyword.strip()} {step.name}"
    record.message = str(exception)
    record.harness_error = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Turn a failed ``@should`` scenario, or an expected failure, into an expected failure
    (``xfailed``), and an expected failure that passed into a failure; record every
    scenario's result on its report."""
    report = yield
    template = template_of(item)
    if template is None:
        return report
    level = level_of(tags_of(template))
    record = item.stash.get(RECORD_KEY, None)
    harness = record is not None and record.harness_error
    if report.when == "call":
        status = "skipped" if report.skipped else "failed" if report.failed else "passed"
        expected = _expectation(item, "failure")
        if status == "failed" and not harness and expected is not None:
            report.outcome = "skipped"
            reason = f"expected failure ({expected.source}): " + _headline(record, report)
            setattr(report, "wasxfail", reason)  # noqa: B010
        elif status == "failed" and level == "should" and not harness:
            report.outcome = "skipped"
            setattr(report, "wasxfail", "warning (@should): " + _headline(record, report))  # noqa: B010
        elif status == "passed" and expected is not None:
            report.outcome = "failed"
            report.longrepr = f"expected failure now passes: remove it from {expected.source}"
        _record(item, level, status, report)
    elif report.when == "setup" and not report.passed:
        status = "skipped" if report.skipped else "failed"
        _record(item, level, status, report)
    return report


def report_name(item: pytest.Item) -> str:
    """The scenario's name as the report gives it (an outline's row with its example)."""
    scenario = scenario_of(item)
    name = scenario.name if scenario is not None else item.name
    example = example_of(item)
    return name + example_suffix(example) if example else name


def _expectation(item: pytest.Item, kind: Kind) -> Entry | None:
    template = template_of(item)
    if template is None:
        return None
    feature = display_path(template.feature.filename, item.config)
    return run_of(item.config).expectation(kind, feature, report_name(item))


def _headline(record: ScenarioRecord | None, report: pytest.TestReport) -> str:
    if record is not None and (record.expected or record.message):
        text = f"{record.failed_step}: " if record.failed_step else ""
        text += f"expected {record.expected}" if record.expected else (record.message or "")
        return " ".join(text.split())[:300]
    return " ".join(str(report.longrepr).split())[-300:]


def _record(item: pytest.Item, level: Level, status: str, report: pytest.TestReport) -> None:
    template = template_of(item)
    scenario = scenario_of(item)
    if template is None or scenario is None:
        return
    record = item.stash.get(RECORD_KEY, None) or ScenarioRecord(
        steps=[StepRecord(s.keyword, s.name, s.line_number) for s in scenario.steps]
    )
    config = item.config
    feature = template.feature
    tags = tags_of(template)
    message = record.message
    if status == "skipped" and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2]).removeprefix("Skipped: ")
    elif status == "failed" and report.when == "setup":
        message = _setup_error(report)
    harness = record.harness_error or report.when == "setup"
    if status == "skipped":
        outcome: Outcome = "skipped"
    elif status == "passed":
        outcome = "passed"
    else:
        outcome = "failed" if harness else outcome_of(level, "failed")
    expected_failure = _expectation(item, "failure")
    expected_skip = _expectation(item, "skip")
    notes = record.context.notes if record.context is not None else {}
    run = run_of(config)
    result = ScenarioResult(
        feature=feature.name,
        section=section_of(tags),
        name=report_name(item),
        level=level,
        outcome=outcome,
        failed_step=record.failed_step,
        expected=record.expected,
        actual=record.actual,
        message=message,
        trace=record.trace,
        duration=time.perf_counter() - record.started,
        feature_uri=display_path(feature.filename, config),
        feature_line=feature.line_number,
        feature_description=feature.description,
        feature_tags=tuple(sorted(feature.tags)),
        keyword=template.keyword,
        line=template.line_number,
        description=template.description or "",
        tags=tuple(sorted(tags)),
        steps=tuple(
            StepResult(
                keyword=step.keyword,
                name=step.name,
                status=step.status,
                line=step.line,
                duration=step.duration,
                error_message=step.error,
            )
            for step in record.steps
        ),
        harness_error=harness and status == "failed",
        expected_failure=expected_failure.source if expected_failure is not None else "",
        expected_skip=expected_skip.source if expected_skip is not None else "",
        version_under_test=str(notes.get("version_under_test", "")),
        wire=_wire_of(record) if status == "failed" else None,
    )
    setattr(report, RESULT_ATTRIBUTE, scenario_to_dict(result))
    setattr(report, SUT_ATTRIBUTE, run.sut_label)


def _wire_of(record: ScenarioRecord) -> tuple[dict[str, Any], ...] | None:
    """The integration's exchanges with Bitbucket during a failed scenario (plain data)."""
    if record.context is None:
        return None
    return tuple(entry.to_json() for entry in record.context.wire.entries)


def _setup_error(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return " ".join(str(report.longrepr).split())[-500:]


# -- the end ---------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The conformance verdict, the warnings, the expectations, and where the report is."""
    run = run_of(config)
    if not run.results or is_worker(config):
        return
    report = run.report()
    write = terminalreporter.write_line
    terminalreporter.section("conformance")
    write(f"system under test: {report.sut}")
    if run.tls_note:
        write(run.tls_note)
    for scenario in report.ordered:
        if scenario.violation is not None:
            write(f"FAILED  @{scenario.level} {scenario.location}: {scenario.name}")
            write(f"          {scenario.violation}")
        elif scenario.outcome in ("failed", "warned"):
            for line in failure_lines(scenario, run.report_dir):
                write(line)
    for scenario in report.unexpected_skips:
        write(f"unexpected skip @{scenario.level} {scenario.location}: {scenario.name}")
        reason = scenario.message or "skipped"
        write(f"          {reason}; {report.expected_skips_file} does not list it")
    for scenario in report.skips_that_ran:
        write(f"expected skip ran @{scenario.level} {scenario.location}: {scenario.name}")
        write(f"          listed in {scenario.expected_skip}, but it was not skipped")
    write(f"{report.verdict}: {report.summary_line()}")
    if run.report_dir:
        write(f"report: {run.report_dir}/ ({', '.join(REPORT_FILES.values())})")


#: How many of the integration's exchanges with Bitbucket a failure shows in the terminal.
TERMINAL_WIRE_ENTRIES: Final = 6
#: Characters of an expectation's text a failure shows in the terminal.
TERMINAL_TEXT_CHARS: Final = 400


def _clip(text: str, limit: int = TERMINAL_TEXT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _failed_and_previous(scenario: ScenarioResult) -> list[str]:
    """The failed step's text and the one before it (the wire's step labels)."""
    texts = [step.text for step in scenario.steps]
    failed = scenario.failing_step
    if failed not in texts:
        return [failed] if failed else []
    index = texts.index(failed)
    return [failed, *texts[max(index - 1, 0) : index]]


def failure_lines(scenario: ScenarioResult, report_dir: str | None) -> list[str]:
    """A failed or warned scenario in the terminal: where, the failed step, expected and
    actual, and the head of Bitbucket's side (the failed step's exchanges, else the
    scenario's last ones)."""
    label = {"FAILED": "FAILED ", "expected failure": "expected failure"}.get(
        scenario.label, "warning"
    )
    lines = [f"{label} @{scenario.level} {scenario.location}: {scenario.name}"]
    step = scenario.failing_step
    if step:
        line = next((s.line for s in scenario.steps if s.status == "failed" and s.line), 0)
        where = f" (line {line})" if line else ""
        lines.append(f"  step{where}: {step}")
    if scenario.excused:
        lines.append(f"  (listed in {scenario.expected_failure})")
    if scenario.expected:
        lines.append(f"  expected: {_clip(scenario.expected)}")
    if scenario.actual:
        lines.append(f"  actual:   {_clip(scenario.actual)}")
    if scenario.message:
        lines.append(f"  {_clip(scenario.message)}")
    if scenario.harness_error or scenario.wire is None:
        return lines
    entries = wire_entries(scenario)
    if not entries:
        lines.append("  Bitbucket's side: the integration sent Bitbucket nothing in this scenario")
        return lines
    places = head_of(entries, _failed_and_previous(scenario), TERMINAL_WIRE_ENTRIES)
    where = f"; all of them in {report_dir}/{REPORT_FILES['markdown']}" if report_dir else ""
    lines.append(
        f"  Bitbucket's side ({len(places)} of the integration's {len(entries)} exchanges{where}):"
    )
    lines += wire_lines([entries[p - 1] for p in places], "    ", places)
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the report, stop the servers, and exit 5 when no scenario ran."""
    run = run_of(session.config)
    try:
        if run.report_dir and not is_worker(session.config):
            write_report(run.report(), run.report_dir)
    finally:
        run.stop()
    if exitstatus == 0 and run.results and run.report().ran == 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
