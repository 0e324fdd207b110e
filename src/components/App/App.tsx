import React from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { AppRootProps } from '@grafana/data';
import { ROUTES } from '../../constants';
import type { GettingStartedProps } from '../../pages/GettingStarted';

const GettingStarted = React.lazy(() => import('../../pages/GettingStarted'));
const Deliveries = React.lazy(() => import('../../pages/Deliveries'));

/** The app's pages; plugin.json declares them as "Getting started" and "Deliveries". */
function App({ meta }: AppRootProps) {
  return (
    <Routes>
      <Route path={ROUTES.Start} element={<GettingStarted meta={meta as GettingStartedProps['meta']} />} />
      <Route path={ROUTES.Deliveries} element={<Deliveries />} />
      <Route path="*" element={<Navigate to={ROUTES.Start} replace />} />
    </Routes>
  );
}

export default App;
