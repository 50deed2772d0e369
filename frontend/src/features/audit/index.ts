export { AuditPage } from './components/AuditPage';
export { ProductHistoryRoute } from './components/ProductHistoryPage';
export { RecentActionsPanel } from './components/RecentActionsPanel';
