import React from 'react';
import { render, screen } from '@testing-library/react';
import { setLanguage } from '../../test/runtime';
import { PlanView } from './PreviewSection';

const end = '2026-11-25T02:25:00Z';
const old = {
  title: 'HighCPU',
  query: 'cpu_usage{instance="node1:9100"}',
  window: '10m0s',
  start: '2026-11-11T02:15:00Z',
  end,
  step: '30m0s',
  rangeReason: 'widened to include the alert’s start 14 days ago',
};

test('an old alert’s plan shows the range actually drawn, its step and why it was widened', () => {
  setLanguage('en-US');
  render(<PlanView plan={old} />);
  expect(screen.getByText('Window from the rule').nextSibling).toHaveTextContent('10 min');
  const range = screen.getByTestId('plan-range');
  expect(range).toHaveTextContent('Range drawn');
  expect(range).toHaveTextContent('14 d 10 min, step 30 min');
  expect(screen.getByTestId('plan-range-reason')).toHaveTextContent('widened to include the alert’s start 14 days ago');
});

test('in Chinese', () => {
  setLanguage('zh-Hans');
  render(<PlanView plan={{ ...old, rangeReason: undefined }} />);
  expect(screen.getByTestId('plan-range')).toHaveTextContent('14 天 10 分钟，步长 30 分钟');
  expect(screen.queryByTestId('plan-range-reason')).not.toBeInTheDocument();
  setLanguage('en-US');
});
