// The spec reporter, plus a closing "N passed, N failed" line that CI reads as the test count.
const { reporters, Runner } = require('mocha');

class SpecWithTally extends reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(`mocha: ${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = SpecWithTally;
