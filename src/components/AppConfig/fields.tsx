import React from 'react';
import { Collapse, Field, Input, SecretInput } from '@grafana/ui';
import { SecretState } from '../../settings/draft';
import { t } from '../../i18n/i18n';

interface TextFieldProps {
  label: string;
  description?: string;
  value: string | undefined;
  placeholder?: string;
  error?: string;
  id: string;
  width?: number;
  onChange: (v: string) => void;
}

/** A labelled text input that reports '' as undefined (Go omitempty). */
export function TextField({ label, description, value, placeholder, error, id, width = 50, onChange }: TextFieldProps) {
  return (
    <Field label={label} description={description} invalid={Boolean(error)} error={error}>
      <Input
        id={id}
        width={width}
        value={value ?? ''}
        placeholder={placeholder}
        onChange={(e) => onChange(e.currentTarget.value)}
      />
    </Field>
  );
}

interface NumberFieldProps {
  label: string;
  description?: string;
  value: number | undefined;
  placeholder?: string;
  error?: string;
  id: string;
  step?: number;
  width?: number;
  onChange: (v: number | undefined) => void;
}

/** A labelled number input; empty means "use the default". */
export function NumberField({
  label,
  description,
  value,
  placeholder,
  error,
  id,
  step,
  width = 20,
  onChange,
}: NumberFieldProps) {
  return (
    <Field label={label} description={description} invalid={Boolean(error)} error={error}>
      <Input
        id={id}
        type="number"
        width={width}
        step={step}
        value={value === undefined || Number.isNaN(value) ? '' : String(value)}
        placeholder={placeholder}
        onChange={(e) => {
          const raw = e.currentTarget.value;
          onChange(raw === '' ? undefined : Number(raw));
        }}
      />
    </Field>
  );
}

interface SecretFieldProps {
  label: string;
  description?: string;
  state: SecretState;
  id: string;
  placeholder?: string;
  error?: string;
  width?: number;
  onChange: (s: SecretState) => void;
}

/**
 * A secret: shows "configured" with a Reset button when Grafana holds a value
 * (the value itself is never sent to the browser), else a password input.
 */
export function SecretField({
  label,
  description,
  state,
  id,
  placeholder,
  error,
  width = 50,
  onChange,
}: SecretFieldProps) {
  return (
    <Field label={label} description={description} invalid={Boolean(error)} error={error}>
      <SecretInput
        id={id}
        width={width}
        value={state.value}
        isConfigured={state.configured}
        placeholder={placeholder ?? t('secret.placeholder')}
        onReset={() => onChange({ configured: false, value: '' })}
        onChange={(e) => onChange({ ...state, value: e.currentTarget.value })}
      />
    </Field>
  );
}

/** Splits a comma/space separated list; empty gives undefined. */
export function splitList(v: string): string[] | undefined {
  const parts = v
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return parts.length ? parts : undefined;
}

interface ListFieldProps {
  label: string;
  description?: string;
  value: string[] | undefined;
  placeholder?: string;
  error?: string;
  id: string;
  width?: number;
  onChange: (v: string[] | undefined) => void;
}

/** A comma separated list; keeps the typed text so separators can be typed. */
export function ListField({ label, description, value, placeholder, error, id, width = 50, onChange }: ListFieldProps) {
  const [text, setText] = React.useState((value ?? []).join(', '));
  return (
    <Field label={label} description={description} invalid={Boolean(error)} error={error}>
      <Input
        id={id}
        width={width}
        value={text}
        placeholder={placeholder}
        onChange={(e) => {
          setText(e.currentTarget.value);
          onChange(splitList(e.currentTarget.value));
        }}
      />
    </Field>
  );
}

interface AdvancedProps {
  /** Keeps the section open while one of its fields has a problem. */
  forceOpen?: boolean;
  children: React.ReactNode;
}

/** Settings most users leave at their defaults, folded away. */
export function Advanced({ forceOpen, children }: AdvancedProps) {
  const [open, setOpen] = React.useState(false);
  return (
    <Collapse label={t('advanced')} isOpen={open || Boolean(forceOpen)} onToggle={() => setOpen(!open)}>
      {children}
    </Collapse>
  );
}
