// One dialog for the create and edit forms of teams, members, users, customers and budgets: the fields are built
// from a list of specs, and read back typed (numbers checked, lists split), so each page only says what it asks for.
// Field ids are "form-<name>". Values are set with .value / .checked, never as HTML.
'use strict';

// A field: { name, label, type: 'text' | 'number' | 'integer' | 'list' | 'select' | 'checkbox', placeholder, help,
// options: [{ value, label }] (select), required }.
let formSubmit = null;

function openForm({ title, submitLabel, fields, values, editing, onSubmit }) {
  const grid = $('form-fields');
  grid.replaceChildren(...fields.flatMap((field) => fieldRow(field, (values || {})[field.name])));
  $('form-title').textContent = title;
  $('form-submit').textContent = submitLabel || (editing ? 'Save' : 'Create');
  $('form-error').hidden = true;
  formSubmit = async () => {
    const body = readForm(fields, !!editing);
    await onSubmit(body);
  };
  $('form-dialog').showModal();
  const first = grid.querySelector('input:not([type=hidden]):not([disabled]), select');
  if (first) first.focus();
}

function fieldRow(field, value) {
  const id = 'form-' + field.name;
  const helpId = field.help ? id + '-help' : undefined;
  let input;
  if (field.type === 'select') {
    input = el('select', { id, name: field.name, 'aria-describedby': helpId },
      ...field.options.map((option) => el('option', { value: option.value, text: option.label })));
    input.value = value === null || value === undefined ? '' : String(value);
  } else if (field.type === 'checkbox') {
    input = el('input', { id, name: field.name, type: 'checkbox', class: 'check', 'aria-describedby': helpId });
    input.checked = !!value;
  } else {
    const numeric = field.type === 'number' || field.type === 'integer';
    input = el('input', {
      id, name: field.name, type: numeric ? 'number' : 'text', placeholder: field.placeholder,
      min: numeric ? '0' : undefined, step: field.type === 'integer' ? '1' : numeric ? 'any' : undefined,
      maxlength: numeric ? undefined : '256', required: field.required, disabled: field.disabled, 'aria-describedby': helpId,
    });
    input.value = value === null || value === undefined ? '' : Array.isArray(value) ? value.join(', ') : String(value);
  }
  const row = [el('label', { for: id, text: field.label }), input];
  if (field.help) row.push(el('span'), el('small', { id: helpId, class: 'muted', text: field.help }));
  return row;
}

// Empty fields are left out of a create (the server's default applies) and sent as null (cleared) by an edit.
function readForm(fields, editing) {
  const body = {};
  for (const field of fields) {
    if (field.disabled) continue;
    const input = $('form-' + field.name);
    if (field.type === 'checkbox') { body[field.name] = input.checked; continue; }
    const text = input.value.trim();
    if (text === '') {
      if (field.required) throw new Error(`${field.label} is required.`);
      if (editing) body[field.name] = field.type === 'list' ? [] : null;
      continue;
    }
    if (field.type === 'number' || field.type === 'integer') {
      const number = Number(text);
      if (!Number.isFinite(number) || number < 0 || (field.type === 'integer' && !Number.isInteger(number))) {
        throw new Error(`${field.label} must be a ${field.type === 'integer' ? 'whole ' : ''}number ≥ 0.`);
      }
      body[field.name] = number;
    } else if (field.type === 'list') {
      body[field.name] = text.split(',').map((item) => item.trim()).filter(Boolean);
    } else {
      body[field.name] = text;
    }
  }
  return body;
}

async function submitForm(event) {
  event.preventDefault();
  const error = $('form-error');
  error.hidden = true;
  const button = $('form-submit');
  button.disabled = true;
  try {
    await formSubmit();
    $('form-dialog').close();
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.message : e.message || String(e);
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

onStart(() => {
  $('form-form').addEventListener('submit', submitForm);
  $('form-cancel').addEventListener('click', () => $('form-dialog').close());
});
