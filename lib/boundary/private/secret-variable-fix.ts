/** How to give a secret, for a refusal that names no variable of its own: what a team declares one with (SecretVariable). */
export const SECRET_VARIABLE_FIX = "pass new SecretVariable(stack, 'name', { description }) and set it with TF_VAR_name";
