// The tenant pages: Teams (and a team's own page: members with roles and budgets, its keys), Users, Customers and
// Budgets, over LiteLLM's /team/*, /user/*, /customer/* and /budget/* APIs. Everything from the API is inserted as
// text (el() and textContent), so a team named "<img onerror=…>" is shown as those characters.
'use strict';

const tenants = { teams: [], team: null, budgets: [], customers: [] };

function teamName(team) { return team.team_alias || team.team_id; }

function teamLink(id) { return '#team/' + encodeURIComponent(id); }

function tbody(id) { return $(id).querySelector('tbody'); }

async function confirmed(text, label, action, done) {
  if (!await confirmAction(text, label)) return;
  try {
    await action();
    say(done);
    await reloadPage();
  } catch (e) { fail(e); }
}

// ---- Teams ----
const TEAM_FIELDS = [
  { name: 'team_alias', label: 'Team name', placeholder: 'QA Prod Bot' },
  { name: 'models', label: 'Models', type: 'list', placeholder: 'empty = all models', help: 'Comma-separated model groups the team may use.' },
  { name: 'max_budget', label: 'Max budget (USD)', type: 'number' },
  { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d, 24h, 1mo' },
  { name: 'rpm_limit', label: 'RPM limit', type: 'integer' },
  { name: 'tpm_limit', label: 'TPM limit', type: 'integer' },
  { name: 'max_parallel_requests', label: 'Max parallel requests', type: 'integer' },
];

async function loadTeams() {
  const teams = await api('GET', '/team/list');
  tenants.teams = Array.isArray(teams) ? teams : [];
  tbody('teams-table').replaceChildren(...tenants.teams.map(teamRow));
  $('teams-empty').hidden = tenants.teams.length > 0;
}

function teamRow(team) {
  const name = teamName(team);
  return el('tr', { 'data-team-id': team.team_id, 'data-alias': team.team_alias || '' },
    el('td', {}, el('a', { href: teamLink(team.team_id), 'data-action': 'open', text: name })),
    el('td', {}, el('code', { text: team.team_id })),
    el('td', { class: 'num', text: num((team.members_with_roles || []).length) }),
    el('td', { class: 'models', text: modelsText(team.models) }),
    el('td', { class: 'num', 'data-spend': team.spend, text: usd(team.spend) }),
    el('td', { class: 'num', text: budgetText(team.max_budget, team.budget_duration) }),
    el('td', { class: 'num', text: limitsText(team) }),
    el('td', { 'data-blocked': team.blocked ? 'true' : 'false' }, statusBadge(team.blocked)),
    el('td', { class: 'row-actions' },
      actionButton('edit', 'Edit', name, () => editTeam(team)),
      team.blocked ? actionButton('unblock', 'Unblock', name, () => setTeamBlocked(team, false)) : actionButton('block', 'Block', name, () => setTeamBlocked(team, true)),
      actionButton('delete', 'Delete', name, () => removeTeam(team), 'danger')));
}

function createTeam() {
  openForm({
    title: 'Create team', fields: TEAM_FIELDS, submitLabel: 'Create team',
    onSubmit: async (body) => {
      const team = await api('POST', '/team/new', body);
      say(`Team ${teamName(team)} created. Add its members and keys here.`);
      location.hash = teamLink(team.team_id);
    },
  });
}

function editTeam(team) {
  openForm({
    title: `Edit team ${teamName(team)}`, fields: TEAM_FIELDS, values: team, editing: true,
    onSubmit: async (body) => {
      await api('POST', '/team/update', { team_id: team.team_id, ...body });
      say('Team updated.');
      await reloadPage();
    },
  });
}

async function setTeamBlocked(team, blocked) {
  try {
    await api('POST', blocked ? '/team/block' : '/team/unblock', { team_id: team.team_id });
    say(blocked ? `Team ${teamName(team)} blocked: its keys are refused from now on.` : `Team ${teamName(team)} unblocked.`);
    await reloadPage();
  } catch (e) { fail(e); }
}

async function removeTeam(team) {
  if (!await confirmAction(`Delete team ${teamName(team)}? Its keys are deleted with it and refused at once. This cannot be undone.`, 'Delete team')) return;
  try {
    await api('POST', '/team/delete', { team_ids: [team.team_id] });
    say(`Team ${teamName(team)} deleted.`);
    if (current.page === 'team') location.hash = '#teams'; else await loadTeams();
  } catch (e) { fail(e); }
}

// ---- one team: members and keys ----
async function loadTeam(id) {
  const info = await api('GET', '/team/info?team_id=' + encodeURIComponent(id));
  tenants.team = info;
  const team = info.team_info;
  $('team-title').textContent = 'Team ' + teamName(team);
  $('team-id').textContent = team.team_id;
  $('team-spend').textContent = usd(team.spend);
  $('team-spend').dataset.spend = String(team.spend || 0);
  $('team-budget').textContent = budgetText(team.max_budget, team.budget_duration);
  $('team-limits').textContent = limitsText(team);
  $('team-status').replaceChildren(statusBadge(team.blocked));
  $('team-status').dataset.blocked = team.blocked ? 'true' : 'false';
  $('team-block').textContent = team.blocked ? 'Unblock' : 'Block';
  $('team-block').dataset.action = team.blocked ? 'unblock' : 'block';

  const memberships = new Map((info.team_memberships || []).map((m) => [m.user_id, m]));
  const members = (team.members_with_roles || []).map((member) => memberRow(team, member, memberships.get(member.user_id)));
  tbody('members-table').replaceChildren(...members);
  $('members-empty').hidden = members.length > 0;

  const keys = (info.keys || []).map((key) => el('tr', { 'data-token': key.token, 'data-alias': key.key_alias || '' },
    el('td', { text: key.key_alias || '—' }),
    el('td', {}, el('code', { text: key.key_name || '' })),
    el('td', { text: key.user_id || '—' }),
    el('td', { class: 'num', 'data-spend': key.spend, text: usd(key.spend) }),
    el('td', { class: 'num', text: budgetText(key.max_budget, key.budget_duration) }),
    el('td', { 'data-blocked': key.blocked ? 'true' : 'false' }, statusBadge(key.blocked))));
  tbody('team-keys-table').replaceChildren(...keys);
  $('team-keys-empty').hidden = keys.length > 0;
}

function memberRow(team, member, membership) {
  const budget = membership && membership.litellm_budget_table;
  const name = member.user_email || member.user_id;
  return el('tr', { 'data-user-id': member.user_id || '' },
    el('td', {}, el('code', { text: member.user_id || '' })),
    el('td', { text: member.user_email || '—' }),
    el('td', { 'data-role': member.role }, el('span', { class: 'badge ' + (member.role === 'admin' ? 'warn' : 'neutral'), text: member.role })),
    el('td', { class: 'num', 'data-spend': membership ? membership.spend : 0, text: usd(membership ? membership.spend : 0) }),
    el('td', { class: 'num', 'data-budget': budget && isSet(budget.max_budget) ? budget.max_budget : '', text: budget ? budgetText(budget.max_budget, budget.budget_duration) : '—' }),
    el('td', { class: 'row-actions' },
      actionButton('edit-member', 'Edit', name, () => editMember(team, member, budget)),
      actionButton('remove-member', 'Remove', name, () => removeMember(team, member), 'danger')));
}

const ROLE_OPTIONS = [{ value: 'user', label: 'user' }, { value: 'admin', label: 'admin' }];

function addMember() {
  const team = tenants.team.team_info;
  openForm({
    title: `Add a member to ${teamName(team)}`, submitLabel: 'Add member',
    fields: [
      { name: 'user_id', label: 'User id', placeholder: 'krrish', help: 'An existing user, or a new one made now.' },
      { name: 'user_email', label: 'Email', placeholder: 'krrish@example.com' },
      { name: 'role', label: 'Role', type: 'select', options: ROLE_OPTIONS },
      { name: 'max_budget_in_team', label: 'Budget in team (USD)', type: 'number', help: 'What this member may spend of the team\'s budget; empty = no own limit.' },
    ],
    values: { role: 'user' },
    onSubmit: async (body) => {
      if (!body.user_id && !body.user_email) throw new Error('Give a user id or an email.');
      const request = { team_id: team.team_id, member: { role: body.role || 'user', user_id: body.user_id, user_email: body.user_email } };
      if (isSet(body.max_budget_in_team)) request.max_budget_in_team = body.max_budget_in_team;
      await api('POST', '/team/member_add', request);
      say(`${body.user_id || body.user_email} added to ${teamName(team)}.`);
      await reloadPage();
    },
  });
}

function editMember(team, member, budget) {
  openForm({
    title: `Edit ${member.user_email || member.user_id} in ${teamName(team)}`, editing: true,
    fields: [
      { name: 'role', label: 'Role', type: 'select', options: ROLE_OPTIONS },
      { name: 'max_budget_in_team', label: 'Budget in team (USD)', type: 'number', help: 'Empty = no own limit within the team.' },
    ],
    values: { role: member.role, max_budget_in_team: budget ? budget.max_budget : null },
    onSubmit: async (body) => {
      await api('POST', '/team/member_update', { team_id: team.team_id, user_id: member.user_id, role: body.role || 'user', max_budget_in_team: body.max_budget_in_team });
      say('Member updated.');
      await reloadPage();
    },
  });
}

function removeMember(team, member) {
  const name = member.user_email || member.user_id;
  return confirmed(`Remove ${name} from ${teamName(team)}? Their keys for this team keep the team's budget.`, 'Remove member',
    () => api('POST', '/team/member_delete', { team_id: team.team_id, user_id: member.user_id }), `${name} removed from ${teamName(team)}.`);
}

// ---- Users ----
const USER_ROLES = ['internal_user', 'internal_user_viewer', 'proxy_admin', 'proxy_admin_viewer'].map((r) => ({ value: r, label: r }));

function userFields(editing) {
  return [
    { name: 'user_id', label: 'User id', placeholder: 'generated when empty', disabled: editing },
    { name: 'user_email', label: 'Email', placeholder: 'krrish@example.com' },
    { name: 'user_role', label: 'Role', type: 'select', options: USER_ROLES },
    { name: 'max_budget', label: 'Max budget (USD)', type: 'number', help: 'For the user\'s keys outside a team.' },
    { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d, 24h, 1mo' },
    { name: 'models', label: 'Models', type: 'list', placeholder: 'empty = all models' },
    ...(editing ? [] : [{ name: 'auto_create_key', label: 'Create a key', type: 'checkbox', help: 'Make the user a key now (shown once).' }]),
  ];
}

async function loadUsers() {
  const data = await api('GET', '/user/list?page_size=1000');
  const users = (data && data.users) || [];
  tbody('users-table').replaceChildren(...users.map((user) => {
    const name = user.user_email || user.user_id;
    return el('tr', { 'data-user-id': user.user_id },
      el('td', {}, el('code', { text: user.user_id })),
      el('td', { text: user.user_email || '—' }),
      el('td', { text: user.user_role || '' }),
      el('td', { class: 'models', text: (user.teams || []).join(', ') || '—' }),
      el('td', { class: 'num', 'data-spend': user.spend, text: usd(user.spend) }),
      el('td', { class: 'num', text: budgetText(user.max_budget, user.budget_duration) }),
      el('td', { class: 'models', text: modelsText(user.models) }),
      el('td', { class: 'row-actions' },
        actionButton('edit', 'Edit', name, () => editUser(user)),
        actionButton('delete', 'Delete', name, () => confirmed(`Delete user ${name}? Their keys stay until deleted.`, 'Delete user',
          () => api('POST', '/user/delete', { user_ids: [user.user_id] }), `User ${name} deleted.`), 'danger')));
  }));
  $('users-empty').hidden = users.length > 0;
}

function createUser() {
  openForm({
    title: 'Create user', fields: userFields(false), values: { user_role: 'internal_user' }, submitLabel: 'Create user',
    onSubmit: async (body) => {
      const created = await api('POST', '/user/new', body);
      await reloadPage();
      if (created && created.key) showSecret(created.key); else say(`User ${created.user_id} created.`);
    },
  });
}

function editUser(user) {
  openForm({
    title: `Edit user ${user.user_email || user.user_id}`, fields: userFields(true), values: user, editing: true,
    onSubmit: async (body) => {
      await api('POST', '/user/update', { user_id: user.user_id, ...body });
      say('User updated.');
      await reloadPage();
    },
  });
}

// ---- Customers ----
async function loadBudgetsAndCustomers() {
  const [budgets, customers] = await Promise.all([api('GET', '/budget/list'), api('GET', '/customer/list')]);
  tenants.budgets = Array.isArray(budgets) ? budgets : [];
  tenants.customers = Array.isArray(customers) ? customers : [];
}

async function loadCustomers() {
  await loadBudgetsAndCustomers();
  tbody('customers-table').replaceChildren(...tenants.customers.map((customer) => {
    const budget = customer.litellm_budget_table || {};
    const name = customer.alias || customer.user_id;
    return el('tr', { 'data-customer-id': customer.user_id, 'data-alias': customer.alias || '' },
      el('td', {}, el('code', { text: customer.user_id })),
      el('td', { text: customer.alias || '—' }),
      el('td', { text: customer.budget_id || '—' }),
      el('td', { class: 'num', 'data-spend': customer.spend, text: usd(customer.spend) }),
      el('td', { class: 'num', text: budgetText(budget.max_budget, budget.budget_duration) }),
      el('td', { class: 'num', text: limitsText(budget) }),
      el('td', { 'data-blocked': customer.blocked ? 'true' : 'false' }, statusBadge(customer.blocked)),
      el('td', { class: 'row-actions' },
        actionButton('edit', 'Edit', name, () => editCustomer(customer)),
        customer.blocked
          ? actionButton('unblock', 'Unblock', name, () => setCustomerBlocked(customer, false))
          : actionButton('block', 'Block', name, () => setCustomerBlocked(customer, true)),
        actionButton('delete', 'Delete', name, () => confirmed(`Delete customer ${name}? Its spend is forgotten; a new request for it starts again at 0.`, 'Delete customer',
          () => api('POST', '/customer/delete', { user_ids: [customer.user_id] }), `Customer ${name} deleted.`), 'danger')));
  }));
  $('customers-empty').hidden = tenants.customers.length > 0;
}

function customerFields(editing) {
  return [
    { name: 'user_id', label: 'Customer id', placeholder: 'acme', required: !editing, disabled: editing, help: editing ? undefined : 'The id your requests send in x-litellm-customer-id or user.' },
    { name: 'alias', label: 'Alias', placeholder: 'Acme Corp' },
    { name: 'budget_id', label: 'Budget tier', type: 'select', options: [{ value: '', label: '— none —' }, ...tenants.budgets.map((b) => ({ value: b.budget_id, label: budgetLabel(b) }))] },
    { name: 'max_budget', label: 'Own budget (USD)', type: 'number', help: 'Instead of a tier: a budget of this customer\'s own.' },
  ];
}

function budgetLabel(budget) { return `${budget.budget_id} (${budgetText(budget.max_budget, budget.budget_duration)})`; }

// A tier and an own budget exclude each other; an own budget replaces the tier (budget_id: null makes a new one).
function customerRequest(body) {
  const request = { alias: body.alias ?? null };
  if (isSet(body.max_budget)) {
    if (body.budget_id) throw new Error('Pick a budget tier or enter an own budget, not both.');
    request.budget_id = null;
    request.max_budget = body.max_budget;
  } else {
    request.budget_id = body.budget_id || null;
  }
  return request;
}

async function createCustomer() {
  try { await loadBudgetsAndCustomers(); } catch (e) { fail(e); return; }
  openForm({
    title: 'Create customer', fields: customerFields(false), submitLabel: 'Create customer',
    onSubmit: async (body) => {
      await api('POST', '/customer/new', { user_id: body.user_id, ...customerRequest(body) });
      say(`Customer ${body.user_id} created.`);
      await reloadPage();
    },
  });
}

function editCustomer(customer) {
  openForm({
    title: `Edit customer ${customer.alias || customer.user_id}`, fields: customerFields(true), editing: true,
    values: { user_id: customer.user_id, alias: customer.alias, budget_id: customer.budget_id },
    onSubmit: async (body) => {
      await api('POST', '/customer/update', { user_id: customer.user_id, ...customerRequest(body) });
      say('Customer updated.');
      await reloadPage();
    },
  });
}

async function setCustomerBlocked(customer, blocked) {
  try {
    await api('POST', blocked ? '/customer/block' : '/customer/unblock', { user_ids: [customer.user_id] });
    say(blocked ? `Customer ${customer.alias || customer.user_id} blocked: requests for it are refused.` : 'Customer unblocked.');
    await reloadPage();
  } catch (e) { fail(e); }
}

// ---- Budgets (tiers) ----
function budgetFields(editing) {
  return [
    { name: 'budget_id', label: 'Budget id', placeholder: 'free-tier (generated when empty)', disabled: editing },
    { name: 'max_budget', label: 'Max budget (USD)', type: 'number' },
    { name: 'soft_budget', label: 'Soft budget (USD)', type: 'number', help: 'Crossing it alerts (log, metric, webhook) without refusing.' },
    { name: 'budget_duration', label: 'Resets every', placeholder: '30d, 24h, 1mo' },
    { name: 'rpm_limit', label: 'RPM limit', type: 'integer' },
    { name: 'tpm_limit', label: 'TPM limit', type: 'integer' },
    { name: 'max_parallel_requests', label: 'Max parallel requests', type: 'integer' },
  ];
}

async function loadBudgets() {
  await loadBudgetsAndCustomers();
  tbody('budgets-table').replaceChildren(...tenants.budgets.map((budget) => {
    const users = tenants.customers.filter((c) => c.budget_id === budget.budget_id).length;
    return el('tr', { 'data-budget-id': budget.budget_id },
      el('td', {}, el('code', { text: budget.budget_id })),
      el('td', { class: 'num', 'data-max-budget': budget.max_budget ?? '', text: isSet(budget.max_budget) ? usd(budget.max_budget) : '—' }),
      el('td', { class: 'num', text: isSet(budget.soft_budget) ? usd(budget.soft_budget) : '—' }),
      el('td', { text: budget.budget_duration || 'never' }),
      el('td', { class: 'num', text: limitsText(budget) }),
      el('td', { class: 'num', text: budget.max_parallel_requests ?? '—' }),
      el('td', { class: 'num', text: num(users) }),
      el('td', { class: 'row-actions' },
        actionButton('edit', 'Edit', budget.budget_id, () => editBudget(budget)),
        actionButton('delete', 'Delete', budget.budget_id, () => confirmed(`Delete budget ${budget.budget_id}? Whoever points at it has no budget from then on.`, 'Delete budget',
          () => api('POST', '/budget/delete', { id: budget.budget_id }), `Budget ${budget.budget_id} deleted.`), 'danger')));
  }));
  $('budgets-empty').hidden = tenants.budgets.length > 0;
}

function createBudget() {
  openForm({
    title: 'Create budget', fields: budgetFields(false), submitLabel: 'Create budget',
    onSubmit: async (body) => {
      const budget = await api('POST', '/budget/new', body);
      say(`Budget ${budget.budget_id} created.`);
      await reloadPage();
    },
  });
}

function editBudget(budget) {
  openForm({
    title: `Edit budget ${budget.budget_id}`, fields: budgetFields(true), values: budget, editing: true,
    onSubmit: async (body) => {
      await api('POST', '/budget/update', { budget_id: budget.budget_id, ...body });
      say('Budget updated.');
      await reloadPage();
    },
  });
}

registerPage('teams', loadTeams);
registerPage('team', loadTeam, 'teams');
registerPage('users', loadUsers);
registerPage('customers', loadCustomers);
registerPage('budgets', loadBudgets);

onStart(() => {
  $('create-team').addEventListener('click', createTeam);
  $('refresh-teams').addEventListener('click', () => show('teams'));
  $('refresh-team').addEventListener('click', reloadPage);
  $('edit-team').addEventListener('click', () => editTeam(tenants.team.team_info));
  $('team-block').addEventListener('click', () => setTeamBlocked(tenants.team.team_info, !tenants.team.team_info.blocked));
  $('add-member').addEventListener('click', addMember);
  $('create-team-key').addEventListener('click', () => openKeyDialog(null, tenants.team.team_info.team_id));
  $('create-user').addEventListener('click', createUser);
  $('refresh-users').addEventListener('click', () => show('users'));
  $('create-customer').addEventListener('click', createCustomer);
  $('refresh-customers').addEventListener('click', () => show('customers'));
  $('create-budget').addEventListener('click', createBudget);
  $('refresh-budgets').addEventListener('click', () => show('budgets'));
});
