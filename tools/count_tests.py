#!/usr/bin/env python3
"""Counts test cases (not targets) from Bazel's test.xml files.

usage: count_tests.py TESTLOGS_DIR TARGET...

Prints "PASSED FAILED". A target with no test.xml (it failed to build, or
Bazel never ran it) counts as one failed case, so nothing vanishes silently.
"""
import os
import sys
import xml.etree.ElementTree as ElementTree


def count(xml_path):
    passed = failed = 0
    root = ElementTree.parse(xml_path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("status") == "notrun" or case.find("skipped") is not None:
            continue
        else:
            passed += 1
    # A crash can leave a suite-level error with no failed case recorded.
    if passed + failed == 0 or (failed == 0 and root.get("errors", "0") not in ("0", "")):
        failed += 1
    return passed, failed


def main():
    testlogs, targets = sys.argv[1], sys.argv[2:]
    passed = failed = 0
    for target in targets:
        package, _, name = target.lstrip("/").partition(":")
        xml_path = os.path.join(testlogs, package, name, "test.xml")
        if not os.path.exists(xml_path):
            print(f"count_tests: no result for {target}", file=sys.stderr)
            failed += 1
            continue
        try:
            p, f = count(xml_path)
        except ElementTree.ParseError as error:
            print(f"count_tests: unreadable {xml_path}: {error}", file=sys.stderr)
            p, f = 0, 1
        if f:
            print(f"count_tests: {target}: {f} failed", file=sys.stderr)
        passed += p
        failed += f
    print(passed, failed)


if __name__ == "__main__":
    main()
