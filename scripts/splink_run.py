#!/usr/bin/env python3
"""Runs Splink 4 or 5 (DuckDB backend) on the same CSV files Aidant links, with a sensible model.

Cleaning is what a careful Splink user would do: names lower-cased with diacritics stripped,
postcodes upper-cased in "OUT IN" form, phones reduced to international digits, dates of birth
parsed to ISO. The model: ForenameSurname/Name comparisons (Jaro-Winkler, Double Metaphone is not
available in DuckDB so Jaro-Winkler and Damerau-Levenshtein levels), date of birth, postcode,
phone, email (and FEBRL's address and social security id); term-frequency adjustments on surname
and postcode; u from random sampling; EM on two blocking rules; predictions at 0.5 and clusters
at 0.5. Writes clusters (record_id,cluster_id) and pairs (record_id_l,record_id_r,match_probability).
"""
import argparse
import re
import time
import unicodedata

import pandas as pd
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def fold(text):
    if not isinstance(text, str) or not text.strip():
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(stripped.lower().replace("'", "").split()) or None


def postcode(text):
    if not isinstance(text, str):
        return None
    compact = re.sub(r"\s+", "", text).upper()
    if len(compact) < 5:
        return compact or None
    return compact[:-3] + " " + compact[-3:]


def phone(text):
    if not isinstance(text, str):
        return None
    digits = re.sub(r"\D", "", text)
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = "44" + digits[1:]
    if digits.startswith("440"):
        digits = "44" + digits[3:]
    return digits or None


def dob(series):
    parsed = pd.to_datetime(series, format="mixed", dayfirst=True, errors="coerce")
    # A bare year is not a full date: Splink's date comparison cannot use it.
    bare_year = series.fillna("").astype(str).str.fullmatch(r"\s*\d{4}\s*")
    parsed[bare_year] = pd.NaT
    return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)


def load_synthetic(path, source):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    cleaned = pd.DataFrame({
        "unique_id": frame["record_id"],
        "source_dataset": source,
        "first_name": frame["given_name"].map(fold),
        "surname": frame["family_name"].map(fold),
        "dob": dob(frame["dob"]),
        "postcode": frame["postcode"].map(postcode),
        "phone": frame["phone"].map(phone),
        "email": frame["email"].map(lambda value: value.strip().lower() if isinstance(value, str) else None),
    })
    return cleaned


def load_febrl(path, source):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    address = (frame["street_number"].fillna("") + " " + frame["address_1"].fillna("")).map(fold)
    cleaned = pd.DataFrame({
        "unique_id": frame["rec_id"],
        "source_dataset": source,
        "first_name": frame["given_name"].map(fold),
        "surname": frame["surname"].map(fold),
        "dob": dob(frame["date_of_birth"].where(frame["date_of_birth"].str.len() == 8).map(
            lambda value: f"{value[:4]}-{value[4:6]}-{value[6:]}" if isinstance(value, str) else None)),
        "postcode": frame["postcode"].map(lambda value: value.strip() if isinstance(value, str) else None),
        "address": address,
        "soc_sec_id": frame["soc_sec_id"].map(lambda value: re.sub(r"\D", "", value) if isinstance(value, str) else None),
    })
    return cleaned


def load_historical(path, source):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    cleaned = pd.DataFrame({
        "unique_id": frame["record_id"],
        "source_dataset": source,
        "first_name": frame["given_name"].map(fold),
        # What a careful user would strip before linking: "Bt.", "5th Baronet" after a comma.
        "surname": frame["family_name"].map(
            lambda value: fold(re.sub(r"(,.*$)|(\s+bt\.?$)", "", value, flags=re.IGNORECASE)) if isinstance(value, str) else None),
        "dob": dob(frame["dob"]),
        "birth_year": frame["dob"].map(lambda value: m.group(0) if isinstance(value, str) and (m := re.match(r"\s*(\d{4})", value)) else None),
        "birth_place": frame["birth_place"].map(fold),
        "occupation": frame["occupation"].map(fold),
        "sex": frame["sex"].map(lambda value: value.strip().upper() if isinstance(value, str) and value.strip() else None),
    })
    return cleaned


LOADERS = {"synthetic": load_synthetic, "febrl": load_febrl, "historical": load_historical}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--kind", choices=sorted(LOADERS), default="synthetic")
    parser.add_argument("--link-only", action="store_true")
    parser.add_argument("--clusters-out", required=True)
    parser.add_argument("--pairs-out", required=True)
    parser.add_argument("--threshold", type=float, default=0.5)
    arguments = parser.parse_args()

    started = time.time()
    loader = LOADERS[arguments.kind]
    frames = [loader(path, f"s{index}") for index, path in enumerate(arguments.input)]
    if arguments.kind == "synthetic":
        comparisons = [
            cl.NameComparison("first_name"),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
        ]
        prediction_rules = [
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
            block_on("phone"),
            block_on("email"),
        ]
        training_rules = [block_on("dob"), block_on("first_name", "surname")]
        deterministic = [block_on("first_name", "surname", "dob")]
    elif arguments.kind == "historical":
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("birth_year"),
            cl.JaroWinklerAtThresholds("birth_place", [0.9, 0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
            cl.ExactMatch("sex"),
        ]
        prediction_rules = [
            block_on("first_name", "surname"),
            block_on("surname", "birth_year"),
            block_on("surname", "birth_place"),
            block_on("first_name", "birth_year"),
        ]
        training_rules = [block_on("birth_year"), block_on("first_name", "surname")]
        deterministic = [block_on("first_name", "surname", "birth_year")]
    else:
        comparisons = [
            cl.NameComparison("first_name"),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.NameComparison("address"),
            cl.ExactMatch("soc_sec_id"),
        ]
        prediction_rules = [
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
            block_on("soc_sec_id"),
            block_on("dob"),
        ]
        training_rules = [block_on("dob"), block_on("first_name", "surname")]
        deterministic = [block_on("first_name", "surname", "dob"), block_on("soc_sec_id")]

    # Reading and cleaning end here; what follows is linking (the stage the wall-time
    # criterion names: training, scoring and clustering), timed on its own as well.
    linking_started = time.time()
    read_seconds = linking_started - started
    link_type = "link_only" if arguments.link_only else ("dedupe_only" if len(frames) == 1 else "link_and_dedupe")
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=prediction_rules,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    database = DuckDBAPI()
    if splink.__version__.startswith("4."):
        inputs = frames[0] if len(frames) == 1 else frames
        linker = Linker(inputs, settings, db_api=database)
    else:
        # Splink 5 takes tables registered with the database first.
        registered = [database.register(frame) for frame in frames]
        linker = Linker(registered[0] if len(registered) == 1 else registered, settings)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=42)
    for rule in training_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, arguments.threshold)
    # Splink has computed both tables in DuckDB by now; converting them for output is writing.
    linking_seconds = time.time() - linking_started
    pairs = predictions.as_pandas_dataframe()
    pairs = pairs[pairs["match_probability"] >= arguments.threshold]
    pairs[["unique_id_l", "unique_id_r", "match_probability"]].rename(
        columns={"unique_id_l": "record_id_l", "unique_id_r": "record_id_r"}).to_csv(arguments.pairs_out, index=False)
    cluster_frame = clusters.as_pandas_dataframe()
    cluster_frame[["unique_id", "cluster_id"]].rename(columns={"unique_id": "record_id"}).to_csv(
        arguments.clusters_out, index=False)
    print(f"splink: {len(pairs)} pairs at >= {arguments.threshold}, "
          f"{cluster_frame['cluster_id'].nunique()} clusters, {time.time() - started:.1f} s")
    print(f"stages: reading and cleaning {read_seconds:.1f} s, linking {linking_seconds:.1f} s")
    print(f"splink version {splink.__version__}")


if __name__ == "__main__":
    main()
