// The dialog that puts a resource file on both hosts, as a Question (QuestionDialog shows it).
import { planLines, type PushPlan } from '../cluster/config-push.js';
import type { Question } from './QuestionDialog.js';

/** The dialog that puts a resource file on both hosts: the plan, then y or the resource name typed. */
export function pushQuestion(plan: PushPlan): Question {
  const hosts = plan.targets.map((t) => t.name).join(' and ');
  return {
    title: `Put the resource file of ${plan.resource} on ${hosts}?`,
    body: ['Secrets are shown as <hidden> (<hidden, changed> where the file changes one).'],
    lines: planLines(plan),
    kind: 'confirm',
    expected: plan.typeToConfirm,
    yes: 'write it',
  };
}
