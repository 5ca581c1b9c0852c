// Ends a jest run with one plain line, `N passed, N failed, N skipped`, that any CI
// can read without knowing jest's output format.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    console.log(
      `\n${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped`,
    );
  }
}
module.exports = SummaryReporter;
