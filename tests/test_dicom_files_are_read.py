"""DICOM files are read into summaries, an ImagingStudy, windowed previews and de-identified copies.

Every file comes from pydicom's bundled test data: CT_small (CT with private tags), MR_small, a 16x16
MONOCHROME1 CR, an RGB ultrasound, a 15-frame RT dose, a YBR JPEG and two CT series of one study.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from fhir.resources.R4B.imagingstudy import ImagingStudy
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.uid import JPEGLSLossless, generate_uid

from fhir.release import UNCONFIRMED, confirmation_of
from fhir.validation import validate_resource
from perception.dicom.deidentify import EMPTIED, REMOVED, deidentify
from perception.dicom.preview import CT_WINDOWS, preview_png
from perception.dicom.read import DicomError, is_dicom, read_dicom, summary
from perception.dicom.study import imaging_study

TEST_FILES = Path(get_testdata_file("CT_small.dcm")).parent
CR_FILE = TEST_FILES / "dicomdirtests/77654033/CR1/6154"
# One study (same StudyInstanceUID), two CT series: CT2N with 2 instances, CT5N with 5.
ONE_STUDY = sorted((TEST_FILES / "dicomdirtests/98892001").glob("CT*/*"))
SUMMARY_KEYWORDS = {
    "study_instance_uid": "StudyInstanceUID", "series_instance_uid": "SeriesInstanceUID",
    "sop_instance_uid": "SOPInstanceUID", "sop_class_uid": "SOPClassUID", "modality": "Modality",
    "study_date": "StudyDate", "study_time": "StudyTime", "study_description": "StudyDescription",
    "series_description": "SeriesDescription", "patient_id": "PatientID", "patient_birth_date": "PatientBirthDate",
    "patient_sex": "PatientSex", "body_part": "BodyPartExamined",
}


def raw(name: str | Path) -> bytes:
    path = name if isinstance(name, Path) else Path(get_testdata_file(name))
    return path.read_bytes()


def encoded(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def png_array(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image)


def validated(resource: dict) -> dict:
    ImagingStudy.model_validate(resource)
    return validate_resource(resource, "ImagingStudy")


# Reading and summaries

@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "examples_rgb_color.dcm", "rtdose.dcm", CR_FILE])
def test_the_summary_says_what_the_file_says(name) -> None:
    data = raw(name)
    ds, expected = read_dicom(data), pydicom.dcmread(io.BytesIO(data))
    found = summary(ds)
    for field, keyword in SUMMARY_KEYWORDS.items():
        value = expected.get(keyword)
        assert getattr(found, field) == (str(value).strip() or None if value is not None else None), field
    assert found.patient_name == (str(expected.PatientName) or None if "PatientName" in expected else None)
    assert (found.rows, found.columns) == (expected.Rows, expected.Columns)
    assert found.number_of_frames == int(expected.get("NumberOfFrames") or 1)
    assert found.series_number == (int(expected.SeriesNumber) if expected.get("SeriesNumber") else None)


def test_a_multi_frame_file_counts_its_frames() -> None:
    assert summary(read_dicom(raw("rtdose.dcm"))).number_of_frames == 15


def test_is_dicom_needs_the_marker_after_the_preamble() -> None:
    assert is_dicom(raw("CT_small.dcm"))
    assert not is_dicom(b"\0" * 128 + b"DIC")
    assert not is_dicom(raw("ExplVR_LitEndNoMeta.dcm"))


def test_a_file_without_preamble_is_read_when_it_starts_like_dicom() -> None:
    ds = read_dicom(raw("ExplVR_LitEndNoMeta.dcm"))
    assert ds.Modality == "RTPLAN"


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7\n" + b"x" * 400, "not a DICOM file"),
    (b"", "not a DICOM file"),
    (Path(__file__).read_bytes(), "not a DICOM file"),
])
def test_a_file_that_is_not_dicom_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(DicomError, match=message):
        read_dicom(data)


def test_a_png_is_not_dicom() -> None:
    buffer = io.BytesIO()
    Image.new("L", (200, 200)).save(buffer, format="PNG")
    with pytest.raises(DicomError, match="no 'DICM' marker"):
        read_dicom(buffer.getvalue())


@pytest.mark.parametrize("cut", [140, 300, 601, 1000, 2497, -1000, -1])
def test_a_truncated_file_is_refused(cut: int) -> None:
    with pytest.raises(DicomError, match="truncated|corrupt|no SOP|no data elements"):
        read_dicom(raw("CT_small.dcm")[:cut])


def test_a_file_cut_inside_the_pixel_data_says_it_is_truncated() -> None:
    with pytest.raises(DicomError, match=r"truncated: element \(7FE0,0010\)"):
        read_dicom(raw("MR_truncated.dcm"))
    with pytest.raises(DicomError, match="truncated"):
        read_dicom(raw("JPEG2000.dcm")[:-200])


def test_garbage_after_the_marker_is_refused() -> None:
    garbage = bytes(range(256)) * 8
    with pytest.raises(DicomError):
        read_dicom(b"\0" * 128 + b"DICM" + garbage)


def test_an_unknown_transfer_syntax_is_refused() -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6.7"
    with pytest.raises(DicomError, match="unsupported transfer syntax 1.2.3.4.5.6.7"):
        read_dicom(encoded(ds))


# ImagingStudy

def test_two_series_of_one_study_make_one_valid_imaging_study() -> None:
    assert len(ONE_STUDY) == 7
    summaries = [summary(read_dicom(path.read_bytes())) for path in ONE_STUDY]
    study = imaging_study(summaries, "p1", document_reference_id="doc-7")
    stored = validated(study)
    assert stored["numberOfSeries"] == 2 and stored["numberOfInstances"] == 7
    assert sorted(s["numberOfInstances"] for s in stored["series"]) == [2, 5]
    assert sorted(len(s["instance"]) for s in stored["series"]) == [2, 5]
    assert stored["identifier"] == [{"system": "urn:dicom:uid", "value": f"urn:oid:{summaries[0].study_instance_uid}"}]
    assert stored["subject"] == {"reference": "Patient/p1"}
    assert stored["modality"] == [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CT"}]
    assert {i["uid"] for s in stored["series"] for i in s["instance"]} == {s.sop_instance_uid for s in summaries}
    instance = stored["series"][0]["instance"][0]
    assert instance["sopClass"] == {"system": "urn:ietf:rfc:3986", "code": "urn:oid:1.2.840.10008.5.1.4.1.1.2"}
    assert "DocumentReference/doc-7" in stored["note"][0]["text"]
    assert confirmation_of(stored) == UNCONFIRMED


def test_copies_with_new_sop_uids_are_counted_once_each() -> None:
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    summaries = []
    for number in (3, 1, 2):
        copied = copy.deepcopy(original)
        copied.SOPInstanceUID, copied.InstanceNumber = generate_uid(), number
        summaries.append(summary(read_dicom(encoded(copied))))
    summaries.append(summaries[0])  # the same instance uploaded twice
    stored = validated(imaging_study(summaries, "p1"))
    assert (stored["numberOfSeries"], stored["numberOfInstances"]) == (1, 3)
    series = stored["series"][0]
    assert [i["number"] for i in series["instance"]] == [1, 2, 3]
    assert series["uid"] == original.SeriesInstanceUID and series["number"] == 1
    assert "note" not in stored


def test_the_start_keeps_its_time_only_when_the_file_gives_a_timezone() -> None:
    ct = summary(read_dicom(raw("CT_small.dcm")))  # 20040119 072730, -0500
    assert imaging_study([ct], "p1")["started"] == "2004-01-19T07:27:30-05:00"
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    del ds.TimezoneOffsetFromUTC
    mr = summary(read_dicom(encoded(ds)))
    assert validated(imaging_study([mr], "p1"))["started"] == "2004-08-26"


def test_a_body_part_travels_as_display_text() -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.BodyPartExamined, ds.SeriesDescription = "CHEST", "Axial 5mm"
    stored = validated(imaging_study([summary(read_dicom(encoded(ds)))], "p1"))
    assert stored["series"][0]["bodySite"] == {"display": "CHEST"}
    assert stored["series"][0]["description"] == "Axial 5mm"


def test_files_of_two_studies_are_refused() -> None:
    ct, mr = summary(read_dicom(raw("CT_small.dcm"))), summary(read_dicom(raw("MR_small.dcm")))
    with pytest.raises(DicomError, match="2 studies"):
        imaging_study([ct, mr], "p1")
    with pytest.raises(DicomError, match="no DICOM instances"):
        imaging_study([], "p1")


# Previews

@pytest.mark.parametrize("name, size, mode", [
    ("CT_small.dcm", (128, 128), "L"), ("MR_small.dcm", (64, 64), "L"), (CR_FILE, (16, 16), "L"),
    ("examples_rgb_color.dcm", (320, 240), "RGB"), ("examples_ybr_color.dcm", (320, 240), "RGB"),
    ("rtdose.dcm", (10, 10), "L"), ("examples_palette.dcm", (800, 350), "RGB"),
])
def test_the_preview_is_a_png_of_the_image_size(name, size, mode) -> None:
    image = Image.open(io.BytesIO(preview_png(read_dicom(raw(name)))))
    assert (image.format, image.size, image.mode) == ("PNG", size, mode)
    assert np.asarray(image).std() > 0  # not a blank picture


def test_a_large_image_is_shrunk_to_max_side() -> None:
    image = Image.open(io.BytesIO(preview_png(read_dicom(raw("examples_rgb_color.dcm")), max_side=100)))
    assert image.size == (100, 75)


def test_the_lung_window_differs_from_the_bone_window() -> None:
    ds = read_dicom(raw("CT_small.dcm"))
    lung = png_array(preview_png(ds, window=CT_WINDOWS["lung"]))
    bone = png_array(preview_png(ds, window=CT_WINDOWS["bone"]))
    assert np.abs(lung.astype(int) - bone.astype(int)).mean() > 10
    # Soft tissue (~40 HU) is mid-grey at lung window, dark at bone window: the rescale made it HU first.
    assert lung.mean() > bone.mean()


def test_the_window_applies_to_rescaled_values() -> None:
    ds = read_dicom(raw("CT_small.dcm"))
    center, width = CT_WINDOWS["mediastinum"]
    shifted = copy.deepcopy(ds)
    shifted.RescaleIntercept = float(ds.RescaleIntercept) + 1000  # every HU value 1000 higher
    assert np.array_equal(png_array(preview_png(ds, window=(center, width))),
                          png_array(preview_png(shifted, window=(center + 1000, width))))


def test_without_a_window_the_files_own_window_is_used() -> None:
    ds = read_dicom(raw("MR_small.dcm"))  # WindowCenter 600, WindowWidth 1600
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    assert np.array_equal(png_array(preview_png(ds)), png_array(preview_png(ds, window=(center, width))))
    del ds.WindowCenter, ds.WindowWidth
    assert not np.array_equal(png_array(preview_png(ds)), png_array(preview_png(ds, window=(center, width))))


def test_monochrome1_is_inverted() -> None:
    ds = read_dicom(raw("CT_small.dcm"))
    normal = png_array(preview_png(ds, window=CT_WINDOWS["mediastinum"]))
    ds.PhotometricInterpretation = "MONOCHROME1"
    inverted = png_array(preview_png(ds, window=CT_WINDOWS["mediastinum"]))
    assert np.array_equal(inverted, 255 - normal)


def test_a_chosen_frame_of_a_multi_frame_file_is_shown() -> None:
    ds = read_dicom(raw("rtdose.dcm"))
    first, last = png_array(preview_png(ds, frame=0)), png_array(preview_png(ds, frame=14))
    assert not np.array_equal(first, last)
    with pytest.raises(DicomError, match="frame 15 does not exist: the image has 15 frame"):
        preview_png(ds, frame=15)


def test_a_ybr_jpeg_looks_like_its_rgb_original() -> None:
    ybr = png_array(preview_png(read_dicom(raw("SC_rgb_dcmtk_+eb+cy+n1.dcm")))).astype(int)
    rgb = png_array(preview_png(read_dicom(raw("SC_rgb_dcmtk_+eb+cr.dcm")))).astype(int)
    assert np.abs(ybr - rgb).mean() < 6  # lossy JPEG; without the colour conversion it is far above 20


def test_a_file_without_pixel_data_has_no_preview() -> None:
    with pytest.raises(DicomError, match="no image to preview"):
        preview_png(read_dicom(raw("rtplan.dcm")))


@pytest.mark.skipif(get_decoder(JPEGLSLossless).is_available, reason="a JPEG-LS decoder is installed")
def test_compression_no_installed_decoder_reads_gives_a_clear_error() -> None:
    with pytest.raises(DicomError, match="JPEG-LS Lossless Image Compression cannot be decoded here"):
        preview_png(read_dicom(raw("MR_small_jpeg_ls_lossless.dcm")))


# De-identification

def _value_for(vr: str) -> object:
    if vr == "SQ":
        item = Dataset()
        item.PatientName, item.PatientID = "Nested^Name", "NESTED-ID"
        return [item]
    return {"PN": "Doe^Jane", "DA": "19700101", "TM": "101010", "AS": "054Y", "DS": "70.5", "CS": "M"}.get(
        vr, "identifying text")


def _fully_identified() -> Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for keyword in (*REMOVED, *EMPTIED):
        setattr(ds, keyword, _value_for(dictionary_VR(keyword)))
    block = ds.private_block(0x0011, "ACME", create=True)
    block.add_new(0x01, "LO", "private patient note")
    ds.ReferencedImageSequence = [Dataset()]
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = ds.SOPInstanceUID
    ds.ReferencedImageSequence[0].ReferencedSOPClassUID = ds.SOPClassUID
    ds.ReferencedImageSequence[0].ReferringPhysicianName = "Nested^Doctor"
    return ds


def test_de_identification_removes_every_listed_tag() -> None:
    ds = _fully_identified()
    clean = deidentify(ds)
    for keyword in REMOVED:
        assert keyword not in clean, keyword
    for keyword in EMPTIED:
        assert keyword in clean and clean[keyword].value in (None, "", b""), keyword
    for keyword in ("StudyDate", "SeriesDate", "ContentTime", "InstanceCreationDate"):
        assert not clean.get(keyword), keyword
    assert not clean.ReferencedImageSequence[0].ReferringPhysicianName
    assert not any(element.tag.is_private for element in clean.iterall())
    assert clean.PatientIdentityRemoved == "YES" and clean.DeidentificationMethod
    assert clean.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert ds.PatientID == "identifying text"  # the original is left as it was


def test_de_identification_keeps_the_pixel_data_byte_for_byte() -> None:
    ds = _fully_identified()
    clean = deidentify(ds)
    assert clean.PixelData == ds.PixelData
    reread = read_dicom(encoded(clean))  # still a valid file
    assert reread.PixelData == ds.PixelData and reread.Rows == ds.Rows


def test_de_identified_files_of_one_study_share_new_consistent_uids() -> None:
    originals = [read_dicom(path.read_bytes()) for path in ONE_STUDY]
    cleans = [deidentify(ds) for ds in originals]
    assert len({c.StudyInstanceUID for c in cleans}) == 1
    assert cleans[0].StudyInstanceUID != originals[0].StudyInstanceUID
    assert len({c.SeriesInstanceUID for c in cleans}) == 2
    assert len({c.SOPInstanceUID for c in cleans}) == 7
    for original, clean in zip(originals, cleans, strict=True):
        assert clean.SOPInstanceUID != original.SOPInstanceUID
        assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
        assert clean.SOPClassUID == original.SOPClassUID
        assert clean.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert deidentify(originals[0]).SOPInstanceUID == cleans[0].SOPInstanceUID  # deterministic
    assert deidentify(originals[0], secret="s3cret").SOPInstanceUID != cleans[0].SOPInstanceUID


def test_references_between_instances_follow_the_new_uids() -> None:
    ds = _fully_identified()
    clean = deidentify(ds)
    reference = clean.ReferencedImageSequence[0]
    assert reference.ReferencedSOPInstanceUID == clean.SOPInstanceUID != ds.SOPInstanceUID
    assert reference.ReferencedSOPClassUID == ds.SOPClassUID


def test_keep_uids_keeps_them_and_says_so() -> None:
    ds = read_dicom(raw("CT_small.dcm"))
    clean = deidentify(ds, keep_uids=True)
    assert (clean.StudyInstanceUID, clean.SOPInstanceUID) == (ds.StudyInstanceUID, ds.SOPInstanceUID)
    assert [c.CodeValue for c in clean.DeidentificationMethodCodeSequence] == ["113100", "113110"]
    assert not clean.PatientName
