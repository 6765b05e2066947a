import { expect } from 'chai';
import { ALIYUN_TABLES, AWS_TABLES, LOCAL_TABLES } from '../../core/table-names';
import { readRepoFile } from './repo';

/** The stage as the configurations spell it, and as the docs do. */
const YAML_STAGE = '${sls:stage}';
const DOCS_STAGE = '<stage>';

describe('the default table names (core/table-names.ts): one source for both configurations and the docs', function () {
  it('serverless.aws.yml names the events and inbox tables as core/table-names.ts does', function () {
    const yml = readRepoFile('serverless.aws.yml').replace(/\$\{self:service\}/g, 'dingtalk-callback');
    expect(yml).to.include(`eventsTable: ${AWS_TABLES.events(YAML_STAGE)}\n`);
    expect(yml).to.include(`inboxTable: ${AWS_TABLES.inbox(YAML_STAGE)}\n`);
    expect(AWS_TABLES.inboxOf(AWS_TABLES.events('prod'))).to.equal(AWS_TABLES.inbox('prod'));
    expect(AWS_TABLES.inboxOf('audit-events-2026')).to.equal(undefined);
  });

  it('serverless.aliyun.yml defaults the events table as core/table-names.ts does, and leaves the inbox and dead letters to it', function () {
    const yml = readRepoFile('serverless.aliyun.yml');
    expect(yml).to.include(`EVENTS_TABLE: \${env:EVENTS_TABLE, '${ALIYUN_TABLES.events(YAML_STAGE)}'}`);
    expect(yml).to.include("RECOVER_INBOX_TABLE: ${env:RECOVER_INBOX_TABLE, ''}");
    expect(yml).to.include("DINGTALK_DEAD_LETTER_TABLE: ${env:DINGTALK_DEAD_LETTER_TABLE, ''}");
  });

  it('the docs name the same tables', function () {
    const aws = readRepoFile('docs/deploy-aws.md');
    expect(aws).to.include(AWS_TABLES.events(DOCS_STAGE));
    expect(aws).to.include(AWS_TABLES.inbox(DOCS_STAGE));
    const aliyun = readRepoFile('docs/deploy-aliyun.md');
    for (const name of [ALIYUN_TABLES.events(DOCS_STAGE), ALIYUN_TABLES.inboxOf('<EVENTS_TABLE>'), ALIYUN_TABLES.deadLettersOf('<EVENTS_TABLE>')]) expect(aliyun).to.include(name);
    expect(readRepoFile('README.md')).to.include(`table ${LOCAL_TABLES.events}`);
  });
});
