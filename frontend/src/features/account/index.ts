export { AccountPage } from './components/AccountPage';
export { SetPasswordPage } from './components/SetPasswordPage';
