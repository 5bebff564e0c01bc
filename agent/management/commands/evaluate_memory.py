"""manage.py evaluate_memory: continuous-care memory scenarios (agent/simulation/memory.py) on the live harness.

    python manage.py evaluate_memory --out REPORT.json [--scenarios FILE] [--model URL] [--limit N] [--in-place]
                                     [--no-progress]

Like `simulate`, it runs in a database of its own (var/memory.sqlite3 unless --database or --in-place), so
simulated patients never enter the clinic's record, and picks its model the same way (--model, else the configured
model, else the default CPU model started for the run). Resumable: scenarios already in REPORT.json are skipped
and the report is rewritten after every scenario; an unreachable model stops the run keeping the finished ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agent.model.client import ModelUnavailable
from agent.simulation.consultation import SimulationStopped
from agent.simulation.memory import SCENARIOS, MemoryReport, read_scenarios, run_scenario
from agent.simulation.runs import (
    CHILD,
    ModelClients,
    add_run_arguments,
    prepare_simulation_process,
    rerun_in_own_database,
)


class Command(BaseCommand):
    help = "Multi-visit scenarios: is a fact from an early visit recalled and used weeks later? Recall and misuse."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, help="the report (JSON); scenarios already in it are skipped")
        parser.add_argument("--scenarios", default=str(SCENARIOS), help="scenarios, one JSON object per line")
        add_run_arguments(parser, "memory.sqlite3")
        parser.add_argument("--limit", type=int, default=0, help="only the first N usable scenarios of the file")

    def handle(self, *args, **options) -> None:
        if options["limit"] < 0:
            raise CommandError("--limit must be 0 (all) or more")
        if not options["in_place"] and os.environ.get(CHILD) != "1":
            self.rerun_in_own_database(options)
            return
        prepare_simulation_process()
        if not Path(options["scenarios"]).exists():
            raise CommandError(f"no scenarios file at {options['scenarios']}")
        scenarios, errors = read_scenarios(options["scenarios"])
        for error in errors:
            self.stderr.write(f"skipped {options['scenarios']} {error}")
        if options["limit"]:
            scenarios = scenarios[:options["limit"]]
        with ModelClients(options | {"patient_model": "", "grader_model": ""}) as (doctor, _, _):
            try:
                report = MemoryReport(options["out"], {"model": doctor.config.model,
                                                       "model_url": doctor.config.base_url,
                                                       "context_chars": settings.MODEL_CONTEXT_CHARS,
                                                       "tool_calling": settings.MODEL_TOOL_CALLING,
                                                       "scenarios_file": str(options["scenarios"])})
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            report.skipped = [{"line": e.line, "error": e.error} for e in errors]
            todo = [s for s in scenarios if s.id not in report.done]
            with tqdm(total=len(scenarios), initial=len(scenarios) - len(todo), desc="memory scenarios",
                      unit="scenario", disable=options["no_progress"], file=sys.stderr) as bar:
                for scenario in todo:
                    try:
                        result = run_scenario(scenario, doctor)
                    except (SimulationStopped, ModelUnavailable) as exc:
                        report.save()
                        raise CommandError(f"stopped at scenario {scenario.id}: {exc}. The {len(report.results)} "
                                           f"finished scenarios are in {options['out']}; rerun to resume.") from exc
                    report.add(result)
                    bar.update(1)
            report.save()
        summary = report.summary()
        if not summary["scenarios"]:
            self.stdout.write(f"no scenarios run -> {options['out']}")
            return
        parts = []
        for key in ("recall", "misuse", "recorded"):
            rate = summary[key]
            parts.append(f"{key} {rate['rate']:.3f} (95% CI {rate['ci95'][0]:.3f}-{rate['ci95'][1]:.3f})")
        self.stdout.write(f"{summary['scenarios']} scenarios: {', '.join(parts)}; "
                          f"{summary['seconds_per_scenario']:.0f} s a scenario -> {options['out']}")

    def rerun_in_own_database(self, options: dict) -> None:
        argv = ["--out", options["out"], "--scenarios", options["scenarios"]]
        for flag in ("model", "model_name"):
            if options[flag]:
                argv += [f"--{flag.replace('_', '-')}", options[flag]]
        if options["limit"]:
            argv += ["--limit", str(options["limit"])]
        if options["no_progress"]:
            argv.append("--no-progress")
        rerun_in_own_database("evaluate_memory", argv,
                              Path(options["database"] or settings.VAR_DIR / "memory.sqlite3"), self.stderr)
