"""Runs unittest tests and writes JUnit XML where Bazel asks for it
($XML_OUTPUT_FILE), so tools/test.sh counts each test case."""
import os
import sys
import time
import unittest
import xml.etree.ElementTree as ElementTree


class _Result(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []
        self._started = 0.0

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _record(self, test, kind=None, text=""):
        self.cases.append((test, kind, text, time.monotonic() - self._started))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules["__main__"])
    runner = unittest.TextTestRunner(resultclass=_Result, verbosity=2)
    result = runner.run(suite)
    path = os.environ.get("XML_OUTPUT_FILE")
    if path:
        suites = ElementTree.Element("testsuites")
        xml_suite = ElementTree.SubElement(
            suites, "testsuite", name=os.path.basename(sys.argv[0]),
            tests=str(len(result.cases)), failures=str(len(result.failures)),
            errors=str(len(result.errors)))
        for test, kind, text, seconds in result.cases:
            case = ElementTree.SubElement(xml_suite, "testcase", name=test.id().split(".")[-1],
                                          classname=type(test).__name__, time=f"{seconds:.3f}")
            if kind:
                ElementTree.SubElement(case, kind, message=text[:200]).text = text
        ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    sys.exit(0 if result.wasSuccessful() else 1)
