/**
 * @module client/ui/sign-in
 * The access-token form and "Sign out", shown only when the server has tokens.
 */

import { requireElement } from './dom.ts';

/** The sign-in chrome. */
export interface SignIn {
  /** Ask for a token (the board stays hidden until one works); `message` explains why. */
  showLogin(message: string): void;
  /** Signed in (or no sign-in needed): show the board; offer "Sign out" when a token is in use. */
  showBoard(signedIn: boolean): void;
}

/**
 * Build it over `#login` and `#sign-out`.
 * @param doc the document
 * @param onLogin called with the token typed
 * @param onLogout called on "Sign out"
 */
export function createSignIn(doc: Document, onLogin: (token: string) => void, onLogout: () => void): SignIn {
  const login = requireElement<HTMLFormElement>(doc, '#login');
  const error = requireElement<HTMLElement>(login, '#login-error');
  const signOut = requireElement<HTMLButtonElement>(doc, '#sign-out');
  login.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = String(new FormData(login).get('token') ?? '').trim();
    if (token !== '') onLogin(token);
  });
  signOut.addEventListener('click', onLogout);

  return {
    showLogin(message) {
      doc.body.classList.add('locked');
      login.hidden = false;
      signOut.hidden = true;
      error.textContent = message;
      login.querySelector<HTMLInputElement>('input')?.focus();
    },
    showBoard(signedIn) {
      doc.body.classList.remove('locked');
      login.hidden = true;
      login.reset();
      error.textContent = '';
      signOut.hidden = !signedIn;
    },
  };
}
