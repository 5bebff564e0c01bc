"""Perception: OCR accuracy and seconds per page per engine, lab values read end to end, classifier inference
time, and the perception queue's throughput with 1 and 2 workers.

    python -m bench.perception [--easyocr-pages 10] [--queue-uploads 8] [--fresh]

OCR runs on the generated ground-truth set (perception/ocr/synthetic.py, 40 pages: 30 lab reports and 10
letters, clean and degraded). "Lab values end to end" is what a patient would see: OCR rows -> parse_rows ->
LOINC-coded rows, counted right when the test, value and printed unit all match the ground truth. The queue
part starts Redis, a SQLite database and real Celery workers on the `perception` queue (the run command's own
functions), sends photographed lab reports through do_receive_upload and times until every one is read.

Results are kept per part in bench/results/perception.json, so an interrupted run resumes where it stopped.
No assertions: it prints figures for docs/benchmarks.md and docs/perception.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "perception.json"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def ocr_part(pages_dir: Path, engine: str, limit: int | None) -> dict:
    from perception.ocr.evaluate import evaluate

    result = evaluate(pages_dir, engine, limit=limit)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items() if k != "per_page"}


def labs_part(pages_dir: Path) -> dict:
    """Ground-truth lab fields read right end to end (rapidocr -> parse_rows -> LOINC match)."""
    from PIL import Image

    from perception.labs.loinc import match_test
    from perception.labs.parse import parse_rows
    from perception.ocr.engines import read_image
    from perception.ocr.synthetic import ground_truth

    fields = right = coded = 0
    for png in sorted(pages_dir.glob("page-*.png")):
        truth = ground_truth(png)
        if truth["kind"] != "lab":
            continue
        rows = parse_rows(read_image(Image.open(png)).rows()).rows
        for field in truth["fields"]:
            fields += 1
            expected = match_test(field["name"])
            found = [r for r in rows if match_test(r.name) == expected] if expected else []
            coded += bool(found)
            value = field["value"].lstrip("<>")
            right += any(r.value is not None and abs(r.value - float(value)) < 1e-9 and
                         r.unit.replace(" ", "").lower() == field["unit"].replace(" ", "").lower() for r in found)
    return {"fields": fields, "coded_share": round(coded / fields, 4), "right_share": round(right / fields, 4)}


def classifier_part(work: Path) -> dict:
    from perception.imaging import synthetic
    from perception.imaging.evaluate import inference_ms
    from perception.imaging.train import TrainingOptions, train

    data = synthetic.generate(work / "imaging-data", per_class=30, seed=0)
    out = {}
    for arch, size in (("mobilenetv3_small_050", 64), ("mobilenetv3_small_100", 224), ("resnet18", 224)):
        started = time.perf_counter()
        record = train(f"bench-{arch}-{size}", data, TrainingOptions(arch=arch, epochs=1, image_size=size))
        train_s = time.perf_counter() - started
        out[f"{arch}@{size}"] = {**inference_ms(record, n=50), "train_one_epoch_s": round(train_s, 1)}
        print(f"  {arch}@{size}: {out[f'{arch}@{size}']}", flush=True)
    return out


def queue_part(work: Path, uploads: int, workers: int) -> dict:
    """Photographed lab reports through the real path: upload -> perception queue -> read -> written. The
    workers share this process's database (SQLite in `work`) and Redis (REDIS_URL, started by main)."""
    from scripts.stack import django_env, start_worker

    env = django_env()
    services = [start_worker(env, work / f"perception-{workers}-{n}.log", name=f"p{workers}-{n}", concurrency=1,
                             beat=False, queue="perception") for n in range(workers)]
    try:
        return _send_and_wait(work, uploads) | {"workers": workers}
    finally:
        for service in reversed(services):
            service.stop()


def _send_and_wait(work: Path, uploads: int) -> dict:
    from perception.models import Upload, UploadStatus
    from tests.support.cast import make_patient
    from tests.support.documents import lab_report, phone_photo
    from webapp.actions.uploads import do_receive_upload

    patient = make_patient()
    photos = [phone_photo(lab_report(work / "queue-pages" / str(n), seed=n)[0], seed=n) for n in range(uploads)]
    started = time.perf_counter()
    ids = [do_receive_upload(patient, patient.conversation, f"lab-{n}.jpg", photo, "document").id
           for n, photo in enumerate(photos)]
    while Upload.objects.filter(id__in=ids, status__in=[UploadStatus.DONE, UploadStatus.FAILED]).count() < len(ids):
        time.sleep(0.2)
        if time.perf_counter() - started > 900:
            raise SystemExit("uploads not read within 15 minutes")
    seconds = time.perf_counter() - started
    failed = Upload.objects.filter(id__in=ids, status=UploadStatus.FAILED).count()
    return {"uploads": uploads, "failed": failed, "seconds": round(seconds, 1),
            "pages_per_minute": round(60 * uploads / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--easyocr-pages", type=int, default=10)
    parser.add_argument("--queue-uploads", type=int, default=8)
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="continuum-bench-perception-"))
    os.environ.update(CONTINUUM_VAR_DIR=str(work), DJANGO_SETTINGS_MODULE="webapp.settings",
                      IMAGING_MODELS_DIR=str(work / "imaging-models"))
    os.environ.pop("DATABASE_URL", None)
    from scripts.stack import django_env, free_port, manage, start_redis

    redis_port = free_port()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"  # before setup: the broker is read at setup
    import django

    django.setup()
    manage("migrate", "--noinput", "-v", "0", env=django_env())  # this run's own SQLite database in `work`
    from perception.ocr.synthetic import generate

    results = {} if args.fresh or not RESULTS.exists() else json.loads(RESULTS.read_text())

    def shown(value: dict) -> str:
        return json.dumps({k: v for k, v in value.items() if k != "by_degradation"})

    def part(key: str, run) -> None:
        if key in results:
            print(f"{key}: {shown(results[key])} (kept)")
            return
        print(f"{key}: running ...", flush=True)
        results[key] = run()
        results["machine"] = machine()
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True))
        print(f"{key}: {shown(results[key])}", flush=True)

    pages = work / "ocr-pages"
    generate(pages, count=40, seed=0)
    part("ocr-rapidocr", lambda: ocr_part(pages, "rapidocr", None))
    part("ocr-easyocr", lambda: ocr_part(pages, "easyocr", args.easyocr_pages))
    part("labs-end-to-end", lambda: labs_part(pages))
    part("classifier", lambda: classifier_part(work))
    if "queue-1-worker" not in results or "queue-2-workers" not in results:
        redis = start_redis(redis_port, work / "redis")
        try:
            part("queue-1-worker", lambda: queue_part(work, args.queue_uploads, 1))
            part("queue-2-workers", lambda: queue_part(work, args.queue_uploads, 2))
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
